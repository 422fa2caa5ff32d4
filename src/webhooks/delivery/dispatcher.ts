import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { STORAGE_GATE, type StorageGate } from '../../database/storage-health.js';
import type { AggregateStore } from '../../event-store/aggregate-store.js';
import { PROJECTS } from '../../event-store/event-store.module.js';
import { EventStore, type WriteTx } from '../../event-store/event-store.js';
import type { ProjectState } from '../../projects/project.decider.js';
import type { ProjectEvent } from '../../projects/project.events.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { Metrics } from '../../shared/metrics.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { HERALD_VERSION } from '../../version.js';
import type { Activity } from '../activity.js';
import { decideWebhook, type WebhookConfig } from '../config/webhook.decider.js';
import { configOf, type WebhookRow } from '../config/webhook.projection.js';
import { maskUrl } from '../config/url-mask.js';
import type { OutgoingRequest, Verdict, WebhookTarget } from '../providers/provider.js';
import { providerFor } from '../providers/registry.js';
import type { DeliveryRow, DeliveryStatus } from './deliveries.js';
import { nextAttemptAt, nextHealth, TEMPORARY_DISABLE_AFTER } from './health.js';
import { WebhookHttpClient, type HttpOutcome } from './http-client.js';
import { PaceKeeper } from './pace.js';
import { DeliveryWakeUp } from './wake-up.js';

export const WEBHOOK_HTTP = Symbol('WEBHOOK_HTTP');
export const WEBHOOK_RANDOM = Symbol('WEBHOOK_RANDOM');

/** Due, or leased by a dispatcher that is gone. Test messages are never queued: they are one synchronous attempt. */
const CLAIMABLE = `event_position IS NOT NULL AND ((status IN ('PENDING', 'RETRYING', 'HELD') AND next_attempt_at <= ?) OR (status = 'DELIVERING' AND lease_until < ?))`;
/** Delivery bookkeeping a power cut may roll back: the delivery is then attempted again (at least once). */
const NOT_DURABLE = { durable: false };
const STANDARD_HEADERS = new Set(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

export interface AttemptResult {
  delivered: boolean;
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/**
 * Claims due deliveries with a lease and delivers them: one worker per webhook (a slow
 * or dead endpoint delays only itself), in event order, at the provider's pace. Every
 * attempt is recorded with its verdict; retries follow the schedule; the webhook's
 * health state machine runs on every outcome.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private static readonly CLAIM_BATCH = 5;
  private readonly logger = new Logger('DeliveryDispatcher');
  private readonly owner = `dispatcher-${randomUUID()}`;
  private readonly pace = new PaceKeeper();
  private readonly workers = new Map<number, Promise<number>>();
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Wake-ups run one after another (each awaits its queries). */
  private scheduling: Promise<void> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly store: EventStore,
    @Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_HTTP) private readonly http: WebhookHttpClient,
    @Inject(WEBHOOK_RANDOM) private readonly random: () => number,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly wakeUp: DeliveryWakeUp,
    private readonly metrics: Metrics,
    @Optional() @Inject(STORAGE_GATE) private readonly storage?: StorageGate,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.background) return;
    this.wakeUp.onWake(() => this.wake());
    this.storage?.onAvailable(() => void this.resume());
    const cleanup = () => void this.cleanup().catch((error) => this.logger.error({ err: error }, 'delivery cleanup failed'));
    this.cleanupTimer = setInterval(cleanup, 3_600_000);
    this.cleanupTimer.unref();
    cleanup();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    await Promise.allSettled([...this.workers.values()]);
    // leases of what we still held go back to the queue at once
    await this.releaseLeases();
    await this.http.close();
  }

  /** Our leases go back to the queue: all of them, or (`idleBefore`) those taken before then by webhooks that have no worker now. */
  private async releaseLeases(idleBefore?: Date): Promise<void> {
    const busy = idleBefore ? [...this.workers.keys()] : [];
    const idle = idleBefore ? `AND updated_at < ? ${busy.length > 0 ? `AND webhook_id NOT IN (${busy.map(() => '?').join(', ')})` : ''}` : '';
    await this.store.transact((tx) =>
      tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = CASE WHEN attempt_count > retry_base THEN 'RETRYING' ELSE 'PENDING' END, lease_owner = NULL, lease_until = NULL
                WHERE status = 'DELIVERING' AND lease_owner = ? AND event_position IS NOT NULL ${idle}`,
          params: idleBefore ? [this.owner, idleBefore.getTime(), ...busy] : [this.owner],
        },
      ]),
      NOT_DURABLE,
    );
  }

  /**
   * Storage is back after an outage, during which workers stopped: what they had claimed
   * (or sent without recording the result) is taken again now rather than when its lease
   * runs out, under the same delivery id. Leases taken since, and those of workers still
   * running, stay.
   */
  private async resume(): Promise<void> {
    if (this.stopping) return;
    await this.releaseLeases(this.clock.now()).catch(() => undefined);
    this.wake();
  }

  /** Storage is unavailable: no claims, no attempts (their results could not be recorded). */
  private get paused(): boolean {
    return this.storage?.available === false;
  }

  /** Whether deliveries are being dispatched in the background (readiness). */
  isRunning(): boolean {
    return this.config.webhooks.background && !this.stopping && (this.timer !== null || this.workers.size > 0);
  }

  /**
   * Background: start a worker for every webhook with something due that has none yet
   * (never waiting for the others: a slow endpoint delays only itself), then look again
   * when the next delivery comes due.
   */
  wake(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.scheduling = this.scheduling.then(() => this.scheduleNext()).catch((error) => {
      // a storage outage is logged once, by StorageHealth
      if (!this.storage?.isOutage(error)) this.logger.error({ err: error }, 'could not look for due deliveries; trying again in a second');
      this.arm(1000);
    });
  }

  /** Starts workers for what is due, then sets the timer for the next time something comes due. */
  private async scheduleNext(): Promise<void> {
    if (this.stopping) return;
    // paused while storage is unavailable: resume() wakes it when storage is back
    if (this.paused) return this.arm(1000);
    await this.startDueWorkers(true);
    // the next time something comes due for a webhook that has no worker now (a busy one looks again when it ends)
    const next = (
      await this.store.query<{ webhook_id: number; at: number }>(
        `SELECT webhook_id, MIN(CASE WHEN status = 'DELIVERING' THEN lease_until ELSE next_attempt_at END) AS at FROM webhook_deliveries
         WHERE status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING') AND event_position IS NOT NULL GROUP BY webhook_id`,
      )
    )
      .filter((row) => !this.workers.has(Number(row.webhook_id)))
      .reduce<number | null>((min, row) => (min === null || Number(row.at) < min ? Number(row.at) : min), null);
    this.arm(next === null ? 1000 : Math.min(Math.max(next - this.clock.now().getTime(), 5), 1000));
  }

  private arm(delay: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  /** Delivers everything due now, webhook by webhook in parallel; resolves with the number of attempts made. Tests drive it. */
  async runOnce(): Promise<number> {
    await this.startDueWorkers(false);
    const counts = await Promise.all(this.workers.values());
    return counts.reduce((a, b) => a + b, 0);
  }

  private async startDueWorkers(background: boolean): Promise<void> {
    const now = this.clock.now().getTime();
    const due = await this.store.query<{ webhook_id: number }>(`SELECT DISTINCT webhook_id FROM webhook_deliveries WHERE ${CLAIMABLE}`, [now, now]);
    for (const row of due) {
      const webhook_id = Number(row.webhook_id);
      if (this.workers.has(webhook_id)) continue;
      const worker = this.work(webhook_id)
        .catch((error) => {
          if (!this.storage?.isOutage(error)) this.logger.error({ err: error, webhookId: webhook_id }, 'webhook worker failed');
          return 0;
        })
        .finally(() => {
          this.workers.delete(webhook_id);
          if (background) setImmediate(() => this.wake());
        });
      this.workers.set(webhook_id, worker);
    }
  }

  /**
   * One webhook's deliveries, one at a time, in event order, until none is due. After a
   * success the next request goes out while the previous record is still committing
   * (records share group commits); after anything else the worker waits for the record,
   * so the next delivery sees the webhook's new health.
   */
  private async work(webhookId: number): Promise<number> {
    let attempts = 0;
    // during a storage outage the worker ends: what it still holds is released when storage is back (resume)
    while (!this.stopping && !this.paused) {
      const batch = await this.claim(webhookId);
      if (batch.length === 0) break;
      const recording: Promise<void>[] = [];
      for (const delivery of batch) {
        if (this.stopping) {
          await this.release(delivery.id);
          continue;
        }
        // nothing more is sent whose result could not be recorded
        if (this.paused) break;
        await this.acquireSlot();
        try {
          const attempt = await this.process(delivery, await this.loadHook(webhookId));
          if (attempt) {
            attempts++;
            const recorded = attempt.recorded.catch((error) => {
              // during a storage outage: a warning without a stack (the outage itself is logged once, by StorageHealth)
              const outage = this.storage?.isOutage(error) === true;
              this.logger[outage ? 'warn' : 'error'](
                { ...(outage ? { reason: (error as Error).message } : { err: error }), deliveryId: delivery.id, webhookId },
                'could not record an attempt; it will be attempted again (same webhook-id)',
              );
            });
            if (attempt.delivered) recording.push(recorded);
            else await recorded;
          }
        } catch (error) {
          if (!this.storage?.isOutage(error)) this.logger.error({ err: error, deliveryId: delivery.id, webhookId }, 'delivery processing failed; its lease will expire and it will be retried');
        } finally {
          this.releaseSlot();
        }
      }
      await Promise.all(recording);
    }
    return attempts;
  }

  /**
   * Takes the next few due deliveries of one webhook. They are attempted one after
   * another, so the k-th one's lease covers k attempts: after a crash the first is
   * taken over within one timeout, and none is ever held by two dispatchers at once.
   */
  private async claim(webhookId: number): Promise<DeliveryRow[]> {
    const hook = await this.loadHook(webhookId);
    const leaseStep = this.config.webhooks.timeoutMs + 2_000;
    // an ordered webhook takes a delivery only when no earlier one of the same issue is still open
    const ordered = hook?.ordered
      ? `AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.issue_id = d.issue_id
           AND e.event_position < d.event_position AND e.status NOT IN ('DELIVERED', 'FAILED', 'SKIPPED'))`
      : '';
    // several instances share the queue: rows another one is claiming right now are skipped, not waited for
    const skipLocked = this.store.engine === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    // on SQLite the claims of many webhooks' workers share one group COMMIT
    const rows = await this.store.transact(async (tx) => {
      const now = tx.now.getTime();
      const ids = (
        await tx.all<{ id: string }>(
          `SELECT id FROM webhook_deliveries d WHERE webhook_id = ? AND ${CLAIMABLE} ${ordered}
           ORDER BY COALESCE(event_position, 0), created_at LIMIT ${DeliveryDispatcher.CLAIM_BATCH} ${skipLocked}`,
          [webhookId, now, now],
        )
      ).map((r) => r.id);
      await tx.exec(
        ids.map((id, k) => ({
          sql: `UPDATE webhook_deliveries SET status = 'DELIVERING', lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ?`,
          params: [this.owner, now + (k + 1) * leaseStep, now, id],
        })),
      );
      const claimed: DeliveryRow[] = [];
      for (const id of ids) claimed.push((await tx.get<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ?`, [id]))!);
      return claimed;
    }, NOT_DURABLE);
    return rows;
  }

  /**
   * An attempt starts only with a whole timeout left on our lease, so it ends before
   * anyone may take the delivery over; a lease running short is extended first, if it
   * is still ours.
   */
  private async holdLease(delivery: DeliveryRow, now: number): Promise<boolean> {
    const needed = this.config.webhooks.timeoutMs + 1_000;
    if (delivery.lease_until !== null && delivery.lease_until - now >= needed) return true;
    const until = now + needed + 1_000;
    const renewed = await this.store.transact(
      async (tx) =>
        (await tx.get<{ id: string }>(
          `UPDATE webhook_deliveries SET lease_until = ? WHERE id = ? AND status = 'DELIVERING' AND lease_owner = ? RETURNING id`,
          [until, delivery.id, this.owner],
        )) !== undefined,
      NOT_DURABLE,
    );
    if (renewed) delivery.lease_until = until;
    return renewed;
  }

  /** Sends one delivery if it may go now; returns the attempt (and its record being committed), or null. */
  private async process(delivery: DeliveryRow, hook: WebhookConfig | undefined): Promise<{ delivered: boolean; recorded: Promise<void> } | null> {
    const now = this.clock.now();
    if (!(await this.holdLease(delivery, now.getTime()))) return null;
    const skipped = !hook ? 'webhook deleted' : !hook.active ? 'webhook inactive' : hook.health.state === 'DISABLED' ? `webhook disabled: ${hook.health.lastError ?? 'unhealthy'}` : null;
    if (skipped || !hook) {
      await this.settle(delivery, 'SKIPPED', skipped);
      return null;
    }
    if (hook.health.state === 'TEMPORARILY_DISABLED' && hook.health.disabledUntil && Date.parse(hook.health.disabledUntil) > now.getTime()) {
      await this.settle(delivery, 'HELD', `webhook temporarily disabled until ${hook.health.disabledUntil}`, Date.parse(hook.health.disabledUntil));
      return null;
    }
    const provider = providerFor(hook.type);
    const slot = this.pace.nextSlot(hook.id, provider.pace, now.getTime());
    if (slot > now.getTime()) {
      // waits for its slot: not an attempt, not a failure
      await this.settle(delivery, delivery.attempt_count > delivery.retry_base ? 'RETRYING' : 'PENDING', delivery.last_error, slot);
      return null;
    }
    this.pace.record(hook.id, provider.pace, now.getTime());
    const { verdict, outcome, request } = await this.send(hook, JSON.parse(delivery.activity) as Activity, delivery.id);
    return { delivered: verdict.kind === 'delivered', recorded: this.record(delivery, hook, request, outcome, verdict, now, false) };
  }

  private async send(hook: WebhookConfig, activity: Activity, deliveryId: string): Promise<{ request: OutgoingRequest; outcome: HttpOutcome; verdict: Verdict }> {
    const provider = providerFor(hook.type);
    let request: OutgoingRequest;
    try {
      // credentials are opened only here, for this request, and never logged
      const now = this.clock.now();
      const previous = hook.previousSigningSecret && Date.parse(hook.previousSigningSecret.until) > now.getTime() ? [this.box.open(hook.previousSigningSecret.secret)] : [];
      const target: WebhookTarget = {
        id: hook.id,
        type: hook.type,
        name: hook.name,
        url: this.box.open(hook.url),
        signingSecrets: [...(hook.signingSecret ? [this.box.open(hook.signingSecret)] : []), ...previous],
        headers: Object.fromEntries(Object.entries(hook.headers).map(([name, value]) => [name, this.box.open(value)])),
      };
      request = provider.render(activity, target, { now: this.clock.now(), brand: this.config.brand, deliveryId, version: HERALD_VERSION });
    } catch (error) {
      // a message we cannot build is our bug: record it as a failed attempt rather than retrying it forever
      this.logger.error({ err: error, webhookId: hook.id, deliveryId }, 'could not render a webhook message');
      return {
        request: { url: hook.urlMasked, headers: {}, body: '' },
        outcome: { kind: 'error', error: 'network', detail: `could not render the message: ${(error as Error).message}`, durationMs: 0 },
        verdict: { kind: 'failed', reason: `could not render the message: ${(error as Error).message}` },
      };
    }
    const outcome = await this.http.send(request);
    const verdict: Verdict =
      outcome.kind === 'response'
        ? provider.judge({ status: outcome.status, headers: outcome.headers, body: outcome.body }, { now: this.clock.now() })
        : outcome.error === 'blocked address'
          ? { kind: 'failed', reason: `blocked address: ${outcome.detail}` }
          : { kind: 'retry', reason: `${outcome.error}: ${outcome.detail}` };
    if (verdict.kind !== 'delivered') {
      this.logger.warn({ webhookId: hook.id, deliveryId, url: hook.urlMasked, verdict: verdict.kind, reason: verdict.reason }, 'webhook attempt unsuccessful');
    }
    return { request, outcome, verdict };
  }

  /**
   * Records one attempt: the attempt row, the delivery's new state, the failure count
   * and, when the webhook's health changes, its event — in one transaction.
   */
  private async record(delivery: DeliveryRow, hook: WebhookConfig, request: OutgoingRequest, outcome: HttpOutcome, verdict: Verdict, startedAt: Date, isTest: boolean): Promise<void> {
    const now = this.clock.now();
    const number = delivery.attempt_count + 1;
    let status: DeliveryStatus;
    let next = now.getTime();
    let lastError: string | null = verdict.kind === 'delivered' ? null : verdict.reason;
    if (verdict.kind === 'delivered') status = 'DELIVERED';
    else if (verdict.kind === 'failed' || isTest) status = 'FAILED';
    else {
      const at = nextAttemptAt(number - delivery.retry_base, this.config.webhooks.retryScheduleMs, now, this.random, verdict.notBefore);
      if (at) {
        status = 'RETRYING';
        next = at.getTime();
      } else {
        status = 'FAILED';
        lastError = `retries exhausted: ${verdict.reason}`;
      }
    }
    const attemptRow = {
      sql: `INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, duration_ms, request, response, error, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [
        delivery.id,
        number,
        startedAt.getTime(),
        Math.round(outcome.durationMs),
        JSON.stringify({ url: maskUrl(request.url, hook.type), headers: maskHeaders(request.headers), body: request.body }),
        outcome.kind === 'response' ? JSON.stringify({ status: outcome.status, headers: outcome.headers, body: outcome.body }) : null,
        outcome.kind === 'error' ? `${outcome.error}: ${outcome.detail}` : null,
        JSON.stringify(verdict.kind === 'delivered' ? verdict : { ...verdict, notBefore: 'notBefore' in verdict ? verdict.notBefore?.toISOString() : undefined }),
      ],
    };
    const deliveryRow = {
      sql: `UPDATE webhook_deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
            WHERE id = ? AND lease_owner = ?`,
      params: [status, number, next, lastError, now.getTime(), delivery.id, this.owner],
    };
    let failures = 0;
    // an attempt that may change the webhook's health appends an event: that commit is durable
    const previous = Number((await this.store.queryOne<{ consecutive: number }>(`SELECT consecutive FROM webhook_failures WHERE webhook_id = ?`, [hook.id]))?.consecutive ?? 0);
    const mayChangeHealth =
      verdict.kind === 'delivered' ? hook.health.state !== 'ACTIVE' : !isTest && (previous + 1 >= TEMPORARY_DISABLE_AFTER || (verdict.kind === 'failed' && verdict.disable === true));
    const observed = () => {
      this.metrics.attemptDuration.observe({ provider: hook.type, verdict: verdict.kind }, outcome.durationMs / 1000);
      if (status === 'DELIVERED' || status === 'FAILED') this.metrics.deliveries.inc({ provider: hook.type, status });
    };
    if (!mayChangeHealth) {
      await this.store.transact(async (tx) => {
        await tx.exec([attemptRow, deliveryRow]);
        if (!isTest || verdict.kind === 'delivered') await tx.exec([failureCount(hook.id, verdict.kind === 'delivered', lastError, now)]);
      }, NOT_DURABLE);
      observed();
      return;
    }
    await this.projects.update(
      hook.projectId,
      {
        durable: true,
        metadata: { actorId: SYSTEM_BOT_ID, correlationId: delivery.id },
        also: async (tx) => {
          await tx.exec([attemptRow, deliveryRow]);
          if (!isTest || verdict.kind === 'delivered') {
            await tx.exec([
              {
                sql: `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES (?, ?, ?, ?)
                      ON CONFLICT (webhook_id) DO UPDATE SET consecutive = excluded.consecutive, last_error = COALESCE(excluded.last_error, webhook_failures.last_error), updated_at = excluded.updated_at`,
                params: [hook.id, failures, lastError, now.getTime()],
              },
            ]);
          }
        },
      },
      async (state, _ctx, tx) => {
        const current = state.webhooks[hook.id];
        if (!current) return [];
        if (verdict.kind === 'delivered') {
          failures = 0;
          if (current.health.state === 'ACTIVE') return [];
          return decideWebhook(
            { kind: 'ChangeWebhookHealth', webhookId: hook.id, state: 'ACTIVE', consecutiveFailures: 0, disabledUntil: null, lastError: current.health.lastError, cause: isTest ? 'test-succeeded' : 'attempt-succeeded' },
            state.id,
            state.webhooks,
          );
        }
        if (isTest) return [];
        failures = Number((await tx.get<{ consecutive: number }>(`SELECT consecutive FROM webhook_failures WHERE webhook_id = ?`, [hook.id]))?.consecutive ?? 0) + 1;
        const health = nextHealth(failures, verdict.kind === 'failed' && verdict.disable === true, now);
        if (health.state === 'ACTIVE') return [];
        return decideWebhook(
          {
            kind: 'ChangeWebhookHealth',
            webhookId: hook.id,
            state: health.state,
            consecutiveFailures: failures,
            disabledUntil: health.disabledUntil?.toISOString() ?? null,
            lastError: verdict.reason,
            cause: verdict.kind === 'failed' && verdict.disable ? 'gone' : 'failures',
          },
          state.id,
          state.webhooks,
        );
      },
    );
    observed();
  }

  /** A delivery leaves DELIVERING without an attempt (skipped, held, or waiting for its pace slot). */
  private async settle(delivery: DeliveryRow, status: DeliveryStatus, lastError: string | null, nextAt = this.clock.now().getTime()): Promise<void> {
    await this.store.transact((tx) =>
      tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = ?, last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?`,
          params: [status, lastError, nextAt, this.clock.now().getTime(), delivery.id],
        },
      ]),
      NOT_DURABLE,
    );
    if (status === 'SKIPPED') this.metrics.deliveries.inc({ provider: 'any', status });
  }

  private async release(id: string): Promise<void> {
    await this.store.transact((tx) =>
      tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = CASE WHEN attempt_count > retry_base THEN 'RETRYING' ELSE 'PENDING' END, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
          params: [id],
        },
      ]),
      NOT_DURABLE,
    );
  }

  /** The test message: one synchronous attempt, recorded like any delivery, past pace and holds. */
  async test(hook: WebhookConfig, activity: Activity): Promise<AttemptResult> {
    const id = `msg_${randomUUID().replace(/-/g, '')}`;
    const now = this.clock.now();
    await this.store.transact((tx) =>
      tx.exec([
        {
          sql: `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, lease_owner, lease_until, created_at, updated_at)
                VALUES (?, ?, ?, NULL, NULL, ?, ?, 'DELIVERING', ?, ?, ?, ?, ?)`,
          params: [id, hook.id, hook.projectId, activity.type, JSON.stringify(activity), now.getTime(), this.owner, now.getTime() + this.config.webhooks.timeoutMs * 2, now.getTime(), now.getTime()],
        },
      ]),
      NOT_DURABLE,
    );
    const delivery = (await this.store.queryOne<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ?`, [id]))!;
    const { request, outcome, verdict } = await this.send(hook, activity, id);
    await this.record(delivery, hook, request, outcome, verdict, now, true);
    return {
      delivered: verdict.kind === 'delivered',
      ...(outcome.kind === 'response' ? { statusCode: outcome.status } : {}),
      durationMs: Math.round(outcome.durationMs),
      ...(verdict.kind !== 'delivered' ? { error: verdict.reason } : {}),
    };
  }

  /** Removes finished deliveries (and their attempts) not touched for the retention period, in chunks. */
  async cleanup(): Promise<number> {
    const before = this.clock.now().getTime() - this.config.webhooks.retentionDays * 86_400_000;
    // a test whose process died mid-attempt never got its result: say so
    const now = this.clock.now().getTime();
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'interrupted before its result was recorded', lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE event_position IS NULL AND status = 'DELIVERING' AND lease_until < ?`,
            params: [now, now],
          },
        ]),
      NOT_DURABLE,
    );
    let removed = 0;
    for (;;) {
      const chunk = await this.store.transact(async (tx) => {
        const ids = (await tx.all<{ id: string }>(`SELECT id FROM webhook_deliveries WHERE status IN ('DELIVERED', 'FAILED', 'SKIPPED') AND updated_at < ? LIMIT 500`, [before])).map(
          (r) => r.id,
        );
        for (const id of ids) {
          await tx.exec([
            { sql: `DELETE FROM webhook_delivery_attempts WHERE delivery_id = ?`, params: [id] },
            { sql: `DELETE FROM webhook_deliveries WHERE id = ?`, params: [id] },
          ]);
        }
        return ids.length;
      }, NOT_DURABLE);
      removed += chunk;
      if (chunk < 500) return removed;
    }
  }

  private async loadHook(webhookId: number): Promise<WebhookConfig | undefined> {
    const row = await this.store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ?`, [webhookId]);
    return row ? configOf(row) : undefined;
  }

  private async acquireSlot(): Promise<void> {
    if (this.inFlight < this.config.webhooks.concurrency) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.inFlight--;
  }
}

/** The webhook's run of unsuccessful attempts: reset by a success, counted up otherwise. */
function failureCount(webhookId: number, success: boolean, lastError: string | null, now: Date) {
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
