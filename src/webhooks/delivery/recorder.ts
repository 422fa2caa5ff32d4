import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore } from '../../event-store/aggregate-store.js';
import type { SqlWrite } from '../../event-store/event.js';
import { PROJECTS } from '../../event-store/event-store.module.js';
import { EventStore } from '../../event-store/event-store.js';
import type { ProjectState } from '../../projects/project.decider.js';
import type { ProjectEvent } from '../../projects/project.events.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { Metrics } from '../../shared/metrics.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { decideWebhook, type WebhookConfig } from '../config/webhook.decider.js';
import { maskUrl } from '../config/url-rules.js';
import type { Attempt } from './attempt.js';
import type { DeliveryRow } from './deliveries.js';
import { outcome, type Outcome } from './outcome.js';
import { DeliveryQueue, NOT_DURABLE } from './queue.js';

export const WEBHOOK_RANDOM = Symbol('WEBHOOK_RANDOM');

const STANDARD_HEADERS = new Set(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

/** What the recorder is given: a delivery, its webhook, and the attempt just made. */
export interface Attempted {
  delivery: DeliveryRow;
  hook: WebhookConfig;
  attempt: Attempt;
  test: boolean;
}

/**
 * Records an attempt: the attempt row, the delivery's new state, the webhook's run of
 * failures and, when its health changes, the health event on its project: in one
 * transaction.
 */
@Injectable()
export class DeliveryRecorder {
  constructor(
    private readonly store: EventStore,
    @Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_RANDOM) private readonly random: () => number,
    private readonly queue: DeliveryQueue,
    private readonly metrics: Metrics,
  ) {}

  async record({ delivery, hook, attempt, test }: Attempted): Promise<Outcome> {
    const now = this.clock.now();
    const number = delivery.attempt_count + 1;
    const previous = Number((await this.store.queryOne<{ consecutive: number }>(`SELECT consecutive FROM webhook_failures WHERE webhook_id = ?`, [hook.id]))?.consecutive ?? 0);
    const history = { attempt: number - delivery.retry_base, consecutiveFailures: previous, health: hook.health.state, test };
    const result = outcome(attempt.verdict, history, { delaysMs: this.config.webhooks.retryScheduleMs, jitter: this.random() }, now);
    const writes: SqlWrite[] = [
      attemptRow(delivery.id, number, attempt),
      this.queue.settleAttempt(
        { id: delivery.id, status: result.status, attemptCount: number, nextAttemptAt: result.nextAttemptAt?.getTime() ?? now.getTime(), lastError: result.lastError },
        now.getTime(),
      ),
    ];
    if (result.consecutiveFailures !== previous || attempt.verdict.kind === 'delivered') {
      writes.push(failureCount(hook.id, attempt.verdict.kind === 'delivered', result.lastError, now));
    }
    // an attempt that may change the webhook's health appends an event: that commit is durable
    if (result.health === null) {
      await this.store.transact((tx) => tx.exec(writes), NOT_DURABLE);
    } else {
      await this.projects.update(
        hook.projectId,
        { durable: true, metadata: { actorId: SYSTEM_BOT_ID, correlationId: delivery.id }, also: (tx) => tx.exec(writes) },
        (state) => {
          const change = result.health;
          if (!change) return [];
          const { state: health, disabledUntil, cause, lastError } = change;
          return decideWebhook(
            {
              kind: 'ChangeWebhookHealth',
              webhookId: hook.id,
              state: health,
              consecutiveFailures: result.consecutiveFailures,
              disabledUntil: disabledUntil?.toISOString() ?? null,
              lastError: lastError ?? state.webhooks[hook.id]?.health.lastError ?? null,
              cause,
            },
            state.id,
            state.webhooks,
          );
        },
      );
    }
    this.metrics.attemptDuration.observe({ provider: hook.type, verdict: attempt.verdict.kind }, attempt.durationMs / 1000);
    if (result.status !== 'RETRYING') this.metrics.deliveries.inc({ provider: hook.type, status: result.status });
    return result;
  }
}

/** The attempt as recorded: the request with secrets masked, the response or the error, and the verdict. */
function attemptRow(deliveryId: string, number: number, { request, response, verdict, startedAt, durationMs }: Attempt): SqlWrite {
  return {
    sql: `INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, duration_ms, request, response, error, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [
      deliveryId,
      number,
      startedAt.getTime(),
      Math.round(durationMs),
      JSON.stringify({ url: maskUrl(request.url), headers: maskHeaders(request.headers), body: request.body }),
      response?.kind === 'response' ? JSON.stringify({ status: response.status, headers: response.headers, body: response.body }) : null,
      response?.kind === 'error' ? `${response.error}: ${response.detail}` : null,
      JSON.stringify(verdict.kind === 'retry' ? { ...verdict, notBefore: verdict.notBefore?.toISOString() } : verdict),
    ],
  };
}

/** The webhook's run of unsuccessful attempts: reset by a success, counted up otherwise. */
function failureCount(webhookId: number, success: boolean, lastError: string | null, now: Date): SqlWrite {
  return {
    sql: `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (webhook_id) DO UPDATE SET consecutive = ${success ? '0' : 'webhook_failures.consecutive + 1'}, last_error = COALESCE(excluded.last_error, webhook_failures.last_error), updated_at = excluded.updated_at`,
    params: [webhookId, success ? 0 : 1, lastError, now.getTime()],
  };
}

/** Recorded requests keep the standard headers; operator headers may hold credentials. */
function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, STANDARD_HEADERS.has(name.toLowerCase()) ? value : '***']));
}
