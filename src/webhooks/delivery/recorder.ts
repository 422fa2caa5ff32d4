import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore } from '../../event-store/aggregate-store.js';
import type { RecordedEvent, SqlWrite } from '../../event-store/event.js';
import { PROJECTS } from '../../event-store/event-store.module.js';
import { EventStore, type WriteTx } from '../../event-store/event-store.js';
import type { ProjectState } from '../../projects/project.decider.js';
import type { ProjectEvent } from '../../projects/project.events.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { Metrics } from '../../shared/metrics.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { decideWebhook, type WebhookConfig } from '../config/webhook.decider.js';
import { WebhookDirectory } from '../config/webhook-directory.js';
import type { WebhookHealthState } from '../config/webhook.events.js';
import { maskUrl } from '../config/url-rules.js';
import type { Attempt } from './attempt.js';
import type { DeliveryRow } from './deliveries.js';
import { outcome, type HealthChange, type Outcome } from './outcome.js';
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

interface Entry extends Attempted {
  /** Drawn once, so a transaction tried again decides the same. */
  jitter: number;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** The webhooks' health changes a batch calls for, by project (the last one per webhook counts). */
type Changes = Map<number, Map<number, { change: HealthChange; consecutive: number; deliveryId: string }>>;

/** The health of a project the transaction did not lock first needs deciding: the transaction starts over with it locked. */
class StreamsToLock extends Error {
  constructor(readonly projectIds: number[]) {
    super(`the health of webhooks of projects ${projectIds.join(', ')} changes`);
  }
}

/**
 * Records attempts in batches: whatever attempts end while a batch is being written go
 * into the next one, one transaction each. A batch writes the attempts, the deliveries'
 * new states, and the webhooks' runs of failures and health: the runs are read (and
 * locked) inside the transaction and the pure `outcome` decides from them, so several
 * instances recording for one webhook agree; a health change is an event appended to the
 * project's stream in the same transaction (then durable). An attempt whose lease was
 * lost meanwhile is someone else's to record.
 */
@Injectable()
export class DeliveryRecorder {
  private static readonly MAX_BATCH = 200;
  /** A batch is written once it has this many attempts, once someone waits for it (hurry), or at the latest after WAIT_MS. */
  private static readonly FULL = 32;
  private static readonly WAIT_MS = 50;
  private queue: Entry[] = [];
  private writing = false;
  private hurried = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: EventStore,
    @Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_RANDOM) private readonly random: () => number,
    private readonly queueSql: DeliveryQueue,
    private readonly directory: WebhookDirectory,
    private readonly metrics: Metrics,
  ) {}

  /** Resolves once the attempt is recorded (with what became of its delivery), or rejects if its batch could not be. */
  record(attempted: Attempted): Promise<Outcome> {
    const recorded = new Promise<Outcome>((resolve, reject) => this.queue.push({ ...attempted, jitter: this.random(), resolve, reject }));
    this.schedule();
    return recorded;
  }

  /** Someone waits for what is queued: write it now. */
  hurry(): void {
    this.hurried = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.writing || this.queue.length === 0) return;
    if (this.hurried || this.queue.length >= DeliveryRecorder.FULL) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.writing = true;
      // the attempts that end in this turn of the event loop join the batch
      setImmediate(() => void this.drain());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.hurry();
      }, DeliveryRecorder.WAIT_MS);
      this.timer.unref();
    }
  }

  private async drain(): Promise<void> {
    do {
      this.hurried = false;
      const batch = this.queue.splice(0, DeliveryRecorder.MAX_BATCH);
      try {
        const outcomes = await this.write(batch);
        batch.forEach((entry, i) => entry.resolve(outcomes[i]));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    } while (this.queue.length > 0 && (this.hurried || this.queue.length >= DeliveryRecorder.FULL));
    this.writing = false;
    this.schedule();
  }

  private async write(batch: Entry[]): Promise<Outcome[]> {
    // the project streams to lock first: those this instance expects a health change on
    let lock = new Set(this.decide(batch, new Map(), this.clock.now()).changes.keys());
    for (;;) {
      try {
        const { outcomes, ours, runs, events } = await this.store.transact((tx) => this.writeIn(tx, batch, lock), lock.size > 0 ? {} : NOT_DURABLE);
        this.directory.apply(events);
        for (const [webhookId, consecutive] of runs) this.directory.noteFailures(webhookId, consecutive);
        batch.forEach((entry, i) => ours.has(entry.delivery.id) && this.observe(entry, outcomes[i]));
        return outcomes;
      } catch (error) {
        if (!(error instanceof StreamsToLock)) throw error;
        lock = new Set([...lock, ...error.projectIds]);
      }
    }
  }

  private async writeIn(tx: WriteTx, batch: Entry[], lock: Set<number>) {
    // streams before anything else: a transaction's id is fixed at its first write, and the log's order follows it
    for (const projectId of [...lock].sort((a, b) => a - b)) await tx.lockStream(`project-${projectId}`);
    const now = tx.now;
    const counted = [...new Set(batch.filter((e) => !e.test || e.attempt.verdict.kind === 'delivered').map((e) => e.hook.id))].sort((a, b) => a - b);
    const before = await this.lockRuns(tx, counted, now.getTime());
    const decided = this.decide(batch, before, now);
    const ours = await this.queueSql.settleAttempts(
      tx,
      batch.map((entry, i) => ({ id: entry.delivery.id, status: decided.outcomes[i].status, attemptCount: entry.delivery.attempt_count + 1, nextAttemptAt: decided.outcomes[i].nextAttemptAt?.getTime() ?? now.getTime(), lastError: decided.outcomes[i].lastError })),
      now.getTime(),
    );
    // a lost lease: that attempt is not recorded here, nor counted (rare: decide again without it)
    const recorded = batch.filter((entry) => ours.has(entry.delivery.id));
    const { runs, changes } = recorded.length < batch.length ? this.decide(recorded, before, now) : decided;
    const unlocked = [...changes.keys()].filter((projectId) => !lock.has(projectId));
    if (unlocked.length > 0) throw new StreamsToLock(unlocked);
    await tx.exec([...chunks(recorded, 500).map((part) => attemptRows(part)), ...this.runRows(recorded, runs, now.getTime())]);
    const events: RecordedEvent[] = [];
    for (const [projectId, changed] of changes) events.push(...(await this.appendHealth(tx, projectId, changed)));
    return { outcomes: decided.outcomes, ours, runs, events };
  }

  /** Each attempt's outcome in order, the webhooks' runs after them, and the health changes they call for. */
  private decide(entries: Entry[], runsBefore: Map<number, number>, now: Date) {
    const runs = new Map<number, number>();
    const health = new Map<number, WebhookHealthState>();
    const changes: Changes = new Map();
    const outcomes = entries.map((entry) => {
      const { delivery, hook, attempt, test } = entry;
      const history = {
        attempt: delivery.attempt_count + 1 - delivery.retry_base,
        consecutiveFailures: runs.get(hook.id) ?? runsBefore.get(hook.id) ?? this.directory.failuresOf(hook.id),
        health: health.get(hook.id) ?? hook.health.state,
        test,
      };
      const result = outcome(attempt.verdict, history, { delaysMs: this.config.webhooks.retryScheduleMs, jitter: entry.jitter }, now);
      runs.set(hook.id, result.consecutiveFailures);
      if (result.health) {
        health.set(hook.id, result.health.state);
        const project = changes.get(hook.projectId) ?? new Map();
        changes.set(hook.projectId, project.set(hook.id, { change: result.health, consecutive: result.consecutiveFailures, deliveryId: delivery.id }));
      }
      return result;
    });
    return { outcomes, runs, changes };
  }

  /** Locks the webhooks' rows of failure runs (creating missing ones) and reads them: the recorders of several instances take turns. */
  private async lockRuns(tx: WriteTx, webhookIds: number[], now: number): Promise<Map<number, number>> {
    if (webhookIds.length === 0) return new Map();
    const rows = await tx.all<{ webhook_id: number; consecutive: number }>(
      `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES ${webhookIds.map(() => '(?, 0, NULL, ?)').join(', ')}
       ON CONFLICT (webhook_id) DO UPDATE SET consecutive = webhook_failures.consecutive RETURNING webhook_id, consecutive`,
      webhookIds.flatMap((id) => [id, now]),
    );
    return new Map(rows.map((row) => [Number(row.webhook_id), Number(row.consecutive)]));
  }

  /** The new runs of the webhooks whose run this batch moved (a failed test moves none), with their last error. */
  private runRows(recorded: Entry[], runs: Map<number, number>, now: number): SqlWrite[] {
    const lastError = new Map<number, string>();
    const moved = new Set<number>();
    for (const entry of recorded) {
      if (entry.test && entry.attempt.verdict.kind !== 'delivered') continue;
      moved.add(entry.hook.id);
      if (entry.attempt.verdict.kind !== 'delivered' && entry.attempt.verdict.kind !== 'unsent') lastError.set(entry.hook.id, entry.attempt.verdict.reason);
    }
    const ids = [...moved];
    if (ids.length === 0) return [];
    return [
      {
        sql: `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES ${ids.map(() => '(?, ?, ?, ?)').join(', ')}
              ON CONFLICT (webhook_id) DO UPDATE SET consecutive = excluded.consecutive, last_error = COALESCE(excluded.last_error, webhook_failures.last_error), updated_at = excluded.updated_at`,
        params: ids.flatMap((id) => [id, runs.get(id) ?? 0, lastError.get(id) ?? null, now]),
      },
    ];
  }

  /** The health events of one project's webhooks, one append per webhook (each correlated with the delivery that moved it). */
  private async appendHealth(tx: WriteTx, projectId: number, changes: Map<number, { change: HealthChange; consecutive: number; deliveryId: string }>): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (const [webhookId, { change, consecutive, deliveryId }] of changes) {
      const appended = await this.projects.updateWithin(tx, projectId, { actorId: SYSTEM_BOT_ID, correlationId: deliveryId }, (state) =>
        decideWebhook(
          {
            kind: 'ChangeWebhookHealth',
            webhookId,
            state: change.state,
            consecutiveFailures: consecutive,
            disabledUntil: change.disabledUntil?.toISOString() ?? null,
            lastError: change.lastError ?? state.webhooks[webhookId]?.health.lastError ?? null,
            cause: change.cause,
          },
          state.id,
          state.webhooks,
        ),
      );
      events.push(...(appended as RecordedEvent[]));
    }
    return events;
  }

  private observe({ hook, attempt }: Entry, result: Outcome): void {
    this.metrics.attemptDuration.observe({ provider: hook.type, verdict: attempt.verdict.kind }, attempt.durationMs / 1000);
    if (result.status !== 'RETRYING') this.metrics.deliveries.inc({ provider: hook.type, status: result.status });
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** The attempts as recorded: the request with secrets masked, the response or the error, and the verdict. */
function attemptRows(entries: Entry[]): SqlWrite {
  return {
    sql: `INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, duration_ms, request, response, error, verdict) VALUES ${entries.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    params: entries.flatMap(({ delivery, attempt: { request, response, verdict, startedAt, durationMs } }) => [
      delivery.id,
      delivery.attempt_count + 1,
      startedAt.getTime(),
      Math.round(durationMs),
      JSON.stringify({ url: maskUrl(request.url), headers: maskHeaders(request.headers), body: request.body }),
      response?.kind === 'response' ? JSON.stringify({ status: response.status, headers: response.headers, body: response.body }) : null,
      response?.kind === 'error' ? `${response.error}: ${response.detail}` : null,
      JSON.stringify(verdict.kind === 'retry' ? { ...verdict, notBefore: verdict.notBefore?.toISOString() } : verdict.kind === 'unsent' ? { kind: 'failed', reason: verdict.reason } : verdict),
    ]),
  };
}

/** Recorded requests keep the standard headers; operator headers may hold credentials. */
function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, STANDARD_HEADERS.has(name.toLowerCase()) ? value : '***']));
}
