import { Controller, Get, Header, Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from './clock.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { storageFault } from '../database/storage-errors.js';
import { StorageHealth } from '../database/storage-health.js';
import { EventStore } from '../event-store/event-store.js';
import { Public } from './route-access.js';
import type { WebhookConfig } from '../webhooks/config/webhook.decider.js';

/**
 * Prometheus metrics, on a registry of this app's own (so several apps in one process
 * keep theirs apart). Gauges about state are read when scraped.
 */
@Injectable()
export class Metrics implements OnModuleDestroy {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'herald_events_appended_total',
    help: 'Events appended to the log, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'herald_webhook_deliveries_total',
    help: 'Webhook deliveries that reached a final status, by provider and status',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'herald_webhook_attempt_duration_seconds',
    help: 'Webhook attempt duration, by provider and verdict',
    labelNames: ['provider', 'verdict'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** Set by the webhook subscription (it knows its lag); read at scrape time. */
  lagSource: ((now: Date) => Promise<{ events: number; seconds: number }>) | null = null;
  private readonly unsubscribe: () => void;

  constructor(store: EventStore, @Inject(CLOCK) clock: Clock, storage: StorageHealth) {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    this.unsubscribe = store.onCommit((_position, types) => {
      for (const type of types) this.eventsAppended.inc({ type });
    });
    let counted = 0;
    new Counter({
      name: 'herald_database_round_trips_total',
      help: 'Statements sent to the database (on PostgreSQL, each a round trip to the server)',
      registers: [this.registry],
      collect() {
        this.inc(store.roundTrips - counted);
        counted = store.roundTrips;
      },
    });
    const lag = async () => (await this.lagSource?.(clock.now())) ?? { events: 0, seconds: 0 };
    new Gauge({
      name: 'herald_subscription_lag_events',
      help: 'Events the webhook subscription has not processed yet',
      registers: [this.registry],
      collect: readFromStorage(async function () {
        this.set((await lag()).events);
      }),
    });
    new Gauge({
      name: 'herald_subscription_lag_seconds',
      help: 'Age of the oldest event the webhook subscription has not processed yet',
      registers: [this.registry],
      collect: readFromStorage(async function () {
        this.set((await lag()).seconds);
      }),
    });
    new Gauge({
      name: 'herald_webhook_delivery_queue',
      help: 'Webhook deliveries by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: readFromStorage(async function () {
        const rows = await store.query<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status`);
        this.reset();
        for (const row of rows) this.set({ state: row.status }, Number(row.n));
      }),
    });
    new Gauge({
      name: 'herald_webhooks',
      help: 'Webhooks by health state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: readFromStorage(async function () {
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
    new Gauge({
      name: 'herald_storage_available',
      help: '1 while the database takes writes, 0 during a storage outage (a full disk, a lost database server)',
      registers: [this.registry],
      collect() {
        this.set(storage.available ? 1 : 0);
      },
    });
    new Counter({
      name: 'herald_storage_outages_total',
      help: 'Storage outages since the start',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(storage.totals.outages);
      },
    });
    new Counter({
      name: 'herald_storage_refused_requests_total',
      help: 'Requests answered 503 because storage was unavailable: commands (writes) and queries (reads)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ kind: 'command' }, storage.totals.commands);
        this.inc({ kind: 'query' }, storage.totals.queries);
      },
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}

/** A metric read from the database keeps its last values while storage is unavailable: the scrape still answers, with the storage metrics. */
function readFromStorage(collect: (this: Gauge) => Promise<void>): (this: Gauge) => Promise<void> {
  return async function (this: Gauge) {
    try {
      await collect.call(this);
    } catch (error) {
      if (!storageFault(error)) throw error;
    }
  };
}

@ApiTags('operations')
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiOkResponse({ description: 'HTTP, event, subscription, delivery and process metrics.', content: { 'text/plain': { schema: { type: 'string' } } } })
  scrape() {
    return this.metrics.registry.metrics();
  }
}
