import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { readFromStorage } from '../database/storage-errors.js';
import { StorageHealth } from '../database/storage-health.js';
import { EventStore } from '../event-store/event-store.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { Metrics } from '../shared/metrics.js';
import { Readiness, type ReadinessReport } from '../shared/readiness.js';
import type { WebhookConfig } from './config/webhook.decider.js';
import { DeliveryDispatcher } from './delivery/dispatcher.js';
import { WebhookSubscription } from './subscription/webhook-subscription.js';

/** The details of the `webhooks` readiness check, for the OpenAPI document of /health/ready. */
export const WEBHOOKS_READINESS_SCHEMA = {
  type: 'object',
  properties: {
    status: { enum: ['up', 'down'] },
    lagEvents: { type: 'integer', description: 'Events the webhook subscription has not processed yet.' },
    lagSeconds: { type: 'number', description: 'Age of the oldest of them.' },
    dispatcher: { enum: ['running', 'stopped'] },
    background: { type: 'boolean', description: 'false when background workers are off (HERALD_BACKGROUND_WORKERS=false).' },
    message: { type: 'string' },
  },
  required: ['status'],
};

/**
 * What the webhooks add to health and metrics: readiness (the subscription keeps up with the
 * log, the dispatcher runs) and the gauges of the subscription's lag, the delivery queue and
 * webhook health, read when scraped.
 */
@Injectable()
export class WebhookOperations {
  constructor(
    @Inject(Metrics) metrics: Metrics,
    @Inject(Readiness) readiness: Readiness,
    private readonly store: EventStore,
    private readonly subscription: WebhookSubscription,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly storage: StorageHealth,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    readiness.register('webhooks', () => this.readiness());
    this.registerGauges(metrics);
  }

  private async readiness(): Promise<ReadinessReport> {
    if (!this.config.webhooks.background) return { up: true, details: { background: false } };
    if (!this.storage.available) return { up: false, details: { message: 'paused while storage is unavailable' } };
    let lag: { events: number; seconds: number };
    try {
      lag = await this.subscription.lag(this.clock.now());
    } catch (error) {
      return { up: false, details: { message: `the webhook subscription’s lag could not be read: ${(error as Error).message}` } };
    }
    const { maxLagEvents, maxLagSeconds } = this.config.readiness;
    const details = { lagEvents: lag.events, lagSeconds: lag.seconds, dispatcher: this.dispatcher.isRunning() ? 'running' : 'stopped' };
    if (!this.dispatcher.isRunning()) return { up: false, details: { ...details, message: 'the delivery dispatcher is not running' } };
    if (lag.events > maxLagEvents || lag.seconds > maxLagSeconds) {
      return { up: false, details: { ...details, message: `the webhook subscription lags the log (at most ${maxLagEvents} events and ${maxLagSeconds} s)` } };
    }
    return { up: true, details };
  }

  private registerGauges(metrics: Metrics): void {
    const { store, subscription, clock } = this;
    const registers = [metrics.registry];
    const lagGauge = (name: string, help: string, of: (lag: { events: number; seconds: number }) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect: readFromStorage(async function (this: Gauge) {
          this.set(of(await subscription.lag(clock.now())));
        }),
      });
    lagGauge('herald_subscription_lag_events', 'Events the webhook subscription has not processed yet', (lag) => lag.events);
    lagGauge('herald_subscription_lag_seconds', 'Age of the oldest event the webhook subscription has not processed yet', (lag) => lag.seconds);
    new Gauge({
      name: 'herald_webhook_delivery_queue',
      help: 'Webhook deliveries by state',
      labelNames: ['state'] as const,
      registers,
      collect: readFromStorage(async function (this: Gauge<'state'>) {
        const rows = await store.query<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status`);
        this.reset();
        for (const row of rows) this.set({ state: row.status }, Number(row.n));
      }),
    });
    new Gauge({
      name: 'herald_webhooks',
      help: 'Webhooks by health state',
      labelNames: ['state'] as const,
      registers,
      collect: readFromStorage(async function (this: Gauge<'state'>) {
        const rows = await store.query<{ config: string }>(`SELECT config FROM rm_webhooks`);
        this.reset();
        const counts: Record<string, number> = { ACTIVE: 0, TEMPORARILY_DISABLED: 0, DISABLED: 0 };
        for (const { config } of rows) {
          const state = (JSON.parse(config) as WebhookConfig).health.state;
          counts[state] = (counts[state] ?? 0) + 1;
        }
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      }),
    });
  }
}
