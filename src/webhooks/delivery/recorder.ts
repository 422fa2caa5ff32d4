import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore } from '../../event-store/aggregate-store.js';
import type { RecordedEvent } from '../../event-store/event.js';
import { EventStore, type WriteTx } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { Metrics } from '../../shared/metrics.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { PROJECT_WEBHOOKS } from '../config/project-webhooks.js';
import { decideWebhook, webhooksContext, type ProjectWebhooksEvent, type ProjectWebhooksState, type WebhookConfig } from '../config/webhook.decider.js';
import { WebhookDirectory } from '../config/webhook-directory.js';
import type { Attempt } from './attempt.js';
import type { DeliveryRow } from './deliveries.js';
import { attemptRows, lockRuns, runRows } from './attempt-log.js';
import { outcomesInOrder, type HealthChange, type Outcome } from './outcome.js';
import { DeliveryQueue, NOT_DURABLE } from './queue.js';

export const WEBHOOK_RANDOM = Symbol('WEBHOOK_RANDOM');

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
    @Inject(PROJECT_WEBHOOKS) private readonly projects: AggregateStore<ProjectWebhooksState, ProjectWebhooksEvent>,
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

  /** Someone waits for what is queued: write it now (after the write in progress, if one is). */
  hurry(): void {
    this.hurried = true;
    this.schedule();
  }

  /**
   * What is queued may start committing: written now unless a write is in progress. Nobody
   * waits for it, so what comes in during a write waits for the next reason to write (a
   * hurry, a full batch, WAIT_MS, or this once the write ended): one webhook's records,
   * coming one after another, then share transactions instead of every fifth or sixth
   * going alone right after the write it just missed.
   */
  startWriting(): void {
    if (!this.writing) this.hurry();
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
        const now = this.clock.now();
        batch.forEach((entry, i) => {
          entry.attempt.trace?.recorded(outcomes[i], now);
          entry.resolve(outcomes[i]);
        });
      } catch (error) {
        for (const entry of batch) {
          entry.attempt.trace?.failed(error);
          entry.reject(error);
        }
      }
    } while (this.queue.length > 0 && (this.hurried || this.queue.length >= DeliveryRecorder.FULL));
    this.writing = false;
    this.schedule();
  }

  private async write(batch: Entry[]): Promise<Outcome[]> {
    // the project streams to lock first: those this instance expects a health change on
    let lock = new Set(this.decide(batch, () => undefined, this.clock.now()).changes.keys());
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
    const before = await lockRuns(tx, [...new Set(batch.filter(movesRun).map((e) => e.hook.id))], now.getTime());
    const decided = this.decide(batch, (id) => before.get(id), now);
    const ours = await this.queueSql.settleAttempts(
      tx,
      batch.map(({ delivery }, i) => {
        const { status, nextAttemptAt, lastError } = decided.outcomes[i];
        return { id: delivery.id, eventPosition: delivery.event_position, status, attemptCount: delivery.attempt_count + 1, nextAttemptAt: nextAttemptAt?.getTime() ?? now.getTime(), lastError };
      }),
      now.getTime(),
    );
    // a lost lease: that attempt is not recorded here, nor counted (rare: decide again without it)
    const recorded = batch.filter((entry) => ours.has(entry.delivery.id));
    const { runs, changes } = recorded.length < batch.length ? this.decide(recorded, (id) => before.get(id), now) : decided;
    const unlocked = [...changes.keys()].filter((projectId) => !lock.has(projectId));
    if (unlocked.length > 0) throw new StreamsToLock(unlocked);
    const moved = recorded.filter(movesRun);
    const lastError = (webhookId: number) => reasonOf(moved.findLast((e) => e.hook.id === webhookId && reasonOf(e.attempt.verdict) !== null)?.attempt.verdict);
    await tx.exec([
      ...attemptRows(recorded.map((e) => ({ deliveryId: e.delivery.id, eventPosition: e.delivery.event_position, number: e.delivery.attempt_count + 1, type: e.hook.type, attempt: e.attempt }))),
      ...runRows([...new Set(moved.map((e) => e.hook.id))].map((webhookId) => ({ webhookId, consecutive: runs.get(webhookId) ?? 0, lastError: lastError(webhookId) })), now.getTime()),
    ]);
    const events: RecordedEvent[] = [];
    for (const [projectId, changed] of changes) events.push(...(await this.appendHealth(tx, projectId, changed, recorded)));
    return { outcomes: decided.outcomes, ours, runs, events };
  }

  /** The attempts' outcomes in order, from the runs before them (unknown: as this instance last knew them). */
  private decide(entries: Entry[], runBefore: (webhookId: number) => number | undefined, now: Date) {
    const ended = entries.map(({ delivery, hook, attempt, test, jitter }) => ({
      webhookId: hook.id,
      projectId: hook.projectId,
      health: hook.health.state,
      attempt: delivery.attempt_count + 1 - delivery.retry_base,
      test,
      direct: delivery.recipient_id != null,
      verdict: attempt.verdict,
      jitter,
    }));
    return outcomesInOrder(ended, (id) => runBefore(id) ?? this.directory.failuresOf(id), this.config.webhooks.retryScheduleMs, now);
  }

  /** The health events of one project's webhooks, one append per webhook (each correlated with the delivery that moved it). */
  private async appendHealth(tx: WriteTx, projectId: number, changes: Map<number, { change: HealthChange; consecutive: number; index: number }>, entries: Entry[]): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (const [webhookId, { change, consecutive, index }] of changes) {
      const correlationId = entries[index].delivery.id;
      const appended = await this.projects.updateWithin(tx, projectId, { actorId: SYSTEM_BOT_ID, correlationId }, (state) =>
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
          state,
          webhooksContext(this.config.webhooks, tx.now, SYSTEM_BOT_ID),
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

/** A failed test says nothing about the endpoint, nor does a direct message (it goes to the IM app's API): only the others move the webhook's run. */
const movesRun = (entry: Attempted) => entry.delivery.recipient_id == null && (!entry.test || entry.attempt.verdict.kind === 'delivered');

/** An error worth keeping as the webhook's last: the endpoint's (not a message Herald could not build). */
const reasonOf = (verdict: Attempt['verdict'] | undefined) => (verdict && verdict.kind !== 'delivered' && verdict.kind !== 'unsent' ? verdict.reason : null);
