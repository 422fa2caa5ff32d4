import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { STORAGE_GATE, type StorageGate } from '../../database/storage-health.js';
import { EventStore } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { Metrics } from '../../shared/metrics.js';
import { IMMEDIATELY, StartUpGate } from '../../shared/start-up.js';
import { COALESCE_CLAIM, Coalescer } from '../coalesce/coalescer.js';
import { WebhookDirectory } from '../config/webhook-directory.js';
import { ReplayedActivities } from '../replay/replayed-activity.js';
import { AttemptMaker } from './attempt.js';
import { AttemptSlots } from './attempt-slots.js';
import type { DeliveryRow } from './deliveries.js';
import { admission, isLastScheduled } from './outcome.js';
import { InstanceHeartbeat } from './heartbeat.js';
import { DeliveryQueue } from './queue.js';
import { DeliveryRecorder } from './recorder.js';
import { SharedPace } from './shared-pace.js';

/**
 * The delivery loop: one worker per webhook with something due (a slow or dead endpoint
 * delays only itself), at most WEBHOOK_CONCURRENCY attempts in flight, each receiver at
 * its pace, kept with every instance (SharedPace). It asks the queue for due deliveries,
 * hands each to an attempt and the attempt to the recorder, and sleeps until the next
 * delivery comes due or a wake-up.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  /**
   * Successful attempts of one worker whose records may still be committing when it sends
   * the next: what a crash can make it send twice (at least once).
   */
  static readonly RECORDS_AHEAD = 10;
  private readonly logger = new Logger('DeliveryDispatcher');
  private readonly workers = new Map<number, Promise<number>>();
  private readonly slots: AttemptSlots;
  private timer: NodeJS.Timeout | null = null;
  /** Wake-ups run one after another (each awaits its queries). */
  private scheduling: Promise<void> = Promise.resolve();
  private stopping = false;
  /**
   * Webhooks whose receiver's pace refused a send, and when it has room again: no worker claims for them before
   * then, whatever comes due meanwhile. Claiming anyway (a replay queues thousands a second) took a batch of what
   * was due then, and one that came due at the slot (a live activity) lost it to that batch when the slot passed
   * while the batch was being prepared: live activities went behind replayed ones on a busy machine.
   */
  private readonly pacedUntil = new Map<number, number>();
  /** A look at the queue is due and has not started yet: further wake-ups join it. */
  private wakeQueued = false;
  /** Looks at the queue that failed in a row: the next one waits longer (a database out of reach is not hammered). */
  private failedLooks = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly queue: DeliveryQueue,
    private readonly attempts: AttemptMaker,
    private readonly recorder: DeliveryRecorder,
    private readonly directory: WebhookDirectory,
    private readonly heartbeat: InstanceHeartbeat,
    private readonly metrics: Metrics,
    private readonly coalescer: Coalescer,
    private readonly pace: SharedPace,
    private readonly replayed: ReplayedActivities,
    @Optional() @Inject(STORAGE_GATE) private readonly storage?: StorageGate,
    @Optional() private readonly startUp?: StartUpGate,
  ) {
    this.slots = new AttemptSlots(config.webhooks.concurrency);
  }

  onApplicationBootstrap(): void {
    // once the start-up has checked the log (and rebuilt outdated read models)
    if (this.config.webhooks.background) (this.startUp ?? IMMEDIATELY).whenOpen(() => this.start());
  }

  private start(): void {
    if (this.stopping) return;
    // new or requeued deliveries, on any instance; and deliveries freed by the heartbeat
    this.unsubscribe = this.store.onSignal('deliveries', () => this.wake());
    this.storage?.onAvailable(() => void this.resume());
    this.wake();
  }

  /** Stops claiming, lets attempts in flight finish and be recorded, and gives back what is still claimed. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.workers.values()]);
    await this.queue.release();
  }

  /**
   * Storage is back after an outage, during which workers stopped: what they had claimed
   * (or sent without recording the result) is taken again now rather than when its lease
   * runs out, under the same delivery id. Leases taken since, and those of workers still
   * running, stay.
   */
  private async resume(): Promise<void> {
    if (this.stopping) return;
    await this.queue.releaseIdle(this.clock.now().getTime(), [...this.workers.keys()]).catch(() => undefined);
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
    if (this.stopping || this.wakeQueued) return;
    this.wakeQueued = true;
    if (this.timer) clearTimeout(this.timer);
    this.scheduling = this.scheduling
      .then(() => {
        this.wakeQueued = false;
        return this.scheduleNext();
      })
      .then(
        () => {
          this.failedLooks = 0;
        },
        (error) => {
          const pause = Math.min(1000 * 2 ** this.failedLooks++, 30_000);
          // a storage outage is logged once, by StorageHealth, and its end wakes the loop (resume)
          if (!this.storage?.isOutage(error)) this.logger.error({ err: error, pauseMs: pause }, 'could not look for due deliveries; trying again after a pause');
          this.arm(pause);
        },
      );
  }

  /** Starts workers for what is due, then sets the timer for the next time something comes due. */
  private async scheduleNext(): Promise<void> {
    if (this.stopping) return;
    // paused while this instance's heartbeat is lost: it may be taken for dead at any moment
    if (this.heartbeat.signal.aborted) return this.arm(1000);
    // paused while storage is unavailable: resume() wakes it when storage is back
    if (this.paused) return this.arm(1000);
    const now = this.clock.now().getTime();
    const { webhookIds, next } = await this.queue.due(now, this.ordered);
    for (const [webhookId, until] of this.pacedUntil) if (until <= now) this.pacedUntil.delete(webhookId);
    this.startWorkers(webhookIds.filter((webhookId) => !this.pacedUntil.has(webhookId)), true);
    // the next time something comes due for a webhook that has no worker now (a busy one looks again when it ends),
    // or a paced one with something due has room again
    const later = [...next, ...webhookIds.flatMap((webhookId) => (this.pacedUntil.has(webhookId) ? [{ webhookId, at: this.pacedUntil.get(webhookId)! }] : []))];
    const soonest = later.filter((row) => !this.workers.has(row.webhookId)).reduce((min, row) => Math.min(min, row.at), Infinity);
    this.arm(Number.isFinite(soonest) ? Math.min(Math.max(soonest - now, 5), 1000) : 1000);
  }

  private arm(delay: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  /** Delivers everything due now, webhook by webhook in parallel; resolves with the number of attempts made. Tests drive it. */
  async runOnce(): Promise<number> {
    this.startWorkers((await this.queue.due(this.clock.now().getTime(), this.ordered)).webhookIds, false);
    const counts = await Promise.all(this.workers.values());
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Whether the queue should read a webhook's lines to tell whether it is due (see DeliveryQueue.due):
   * an ordered webhook with no worker now (a busy one looks again when its worker ends).
   */
  private readonly ordered = async (webhookId: number) => !this.workers.has(webhookId) && ((await this.directory.get(webhookId))?.ordered ?? false);

  private startWorkers(webhookIds: number[], background: boolean): void {
    for (const webhookId of webhookIds) {
      if (this.workers.has(webhookId)) continue;
      const worker = this.work(webhookId)
        .catch((error) => {
          if (!this.storage?.isOutage(error)) this.logger.error({ err: error, webhookId }, 'webhook worker failed');
          return 0;
        })
        .finally(() => {
          this.workers.delete(webhookId);
          if (background) setImmediate(() => this.wake());
        });
      this.workers.set(webhookId, worker);
    }
  }

  /**
   * One webhook's deliveries, one at a time, in event order, until none is due. After a
   * success the next request goes out while the previous record is still committing
   * (records share transactions: they start committing at half of RECORDS_AHEAD, and the
   * worker waits at RECORDS_AHEAD); after anything else the worker waits for the record,
   * so the next delivery sees the webhook's new health.
   */
  private async work(webhookId: number): Promise<number> {
    let attempts = 0;
    // during a storage outage the worker ends: what it still holds is released when storage is back (resume)
    while (!this.stopping && !this.heartbeat.signal.aborted && !this.paused) {
      const signal = this.heartbeat.signal;
      const hook = await this.directory.get(webhookId);
      const keys = hook ? Object.values(this.pace.of(hook).keys) : [];
      const claimed = await this.queue.claim(webhookId, hook?.ordered ?? false, this.coalescer.coalesces(hook) ? COALESCE_CLAIM : undefined, keys);
      // a receiver throttled (from any instance): what was claimed waits for the end of it
      if (claimed.length === 0 || (await this.pace.holdBack(claimed, this.clock.now().getTime()))) break;
      // a replay's deliveries store no activity: built from their events now, before the window gathers them
      await this.replayed.fill(claimed);
      // a chat webhook's window: what came due within it goes as one message
      const batch = hook ? await this.coalescer.gather(hook, claimed, this.clock.now().getTime()) : claimed;
      if (batch.length === 0) break;
      // records of successes still committing
      const recording = new Set<Promise<unknown>>();
      for (let i = 0; i < batch.length; i++) {
        // nothing more is sent whose result could not be recorded
        if (this.stopping || signal.aborted || this.paused) {
          // the rest goes back (if it is still ours: an instance taken for dead has lost it already)
          await this.queue.release(batch.slice(i)).catch(() => undefined);
          break;
        }
        // half way: the records start committing while the next requests go out; at the bound, wait
        if (recording.size >= DeliveryDispatcher.RECORDS_AHEAD / 2) this.recorder.startWriting();
        while (recording.size >= DeliveryDispatcher.RECORDS_AHEAD) await this.waitFor(Promise.race(recording));
        const step = await this.deliver(batch[i], batch.slice(i), signal);
        if (step === 'stop') break;
        if (step === 'paced') {
          // the rest waits for the receiver's room; so does this worker (see pacedUntil)
          await this.waitFor(Promise.all(recording));
          return attempts;
        }
        if (step !== 'skipped') {
          attempts++;
          if (step.throttled) {
            recording.add(step.recorded);
            break;
          }
          if (step.delivered) {
            const recorded: Promise<unknown> = step.recorded.finally(() => recording.delete(recorded));
            recording.add(recorded);
            continue;
          }
          await this.waitFor(step.recorded);
        }
        // an ordered webhook's batch holds whole lines: what follows a delivery that did not go waits for it
        // (given back, the next claim takes only the lines it does not stop)
        if (hook?.ordered) {
          await this.queue.release(batch.slice(i + 1));
          break;
        }
      }
      await this.waitFor(Promise.all(recording));
    }
    return attempts;
  }

  /**
   * One claimed delivery: attempted now, or (with the rest of its batch, which shares its
   * webhook) skipped, held, or put back until its pace slot. An answer that throttles the
   * receiver holds it for every instance, and the rest of the batch waits for the end of it.
   */
  private async deliver(delivery: DeliveryRow, rest: DeliveryRow[], signal: AbortSignal): Promise<'stop' | 'paced' | 'skipped' | { delivered: boolean; throttled: boolean; recorded: Promise<unknown> }> {
    const now = this.clock.now().getTime();
    let hook = await this.directory.get(delivery.webhook_id);
    const ids = rest.map((d) => d.id);
    let gate = admission(hook, new Date(now));
    // skipped is for good: decided on the webhook as committed, not on a view of the log that may lag behind
    // a change just made (re-enabled, its deliveries requeued: stress round 2, on PostgreSQL)
    if (gate.kind === 'skip' || !hook) {
      hook = await this.directory.committed(delivery.webhook_id);
      gate = admission(hook, new Date(now));
    }
    if (gate.kind === 'skip' || !hook) {
      await this.queue.settle(rest, 'SKIPPED', gate.kind === 'skip' ? gate.reason : null, now, now);
      this.metrics.deliveries.inc({ provider: 'any', status: 'SKIPPED' }, rest.length);
      return 'stop';
    }
    if (gate.kind === 'hold') return await this.queue.settle(rest, 'HELD', gate.reason, gate.until.getTime(), now).then(() => 'stop' as const);
    if (!(await this.queue.holdLease(delivery, now))) return 'skipped';
    const paced = this.pace.of(hook);
    await this.slots.acquire();
    let attempt;
    try {
      // the receiver's slot is taken last, as the request leaves: a wait for an attempt slot must not age it
      const sent = this.clock.now().getTime();
      // a direct message goes to the IM app's API: it waits alone for that API's throttle, and takes the channel's slot only to fall back
      const direct = delivery.recipient_id != null;
      const slot = direct ? await this.pace.blockedUntil(this.pace.ofImApp(hook), sent) : await this.pace.take(paced, sent);
      // waits for its slot: not an attempt, not a failure
      if (slot > sent) {
        await this.queue.settle(direct ? [delivery] : rest, 'WAITING', null, slot, sent);
        if (direct) return 'skipped';
        this.pacedUntil.set(delivery.webhook_id, slot);
        return 'paced';
      }
      const origin = { traceparent: delivery.traceparent, tracestate: delivery.tracestate, number: delivery.attempt_count + 1 };
      const final = isLastScheduled(delivery.attempt_count + 1 - delivery.retry_base, this.config.webhooks.retryScheduleMs);
      attempt = await this.attempts.make(hook, delivery.activity, delivery.id, signal, origin, { final, requeued: Number(delivery.retry_base), channelSlot: (at) => this.pace.take(paced, at) });
      if (attempt.waitsUntil !== undefined) {
        attempt.trace?.failed(new Error('a direct message’s fall-back waits for the channel’s pace slot'));
        return await this.queue.settle(rest, 'WAITING', null, attempt.waitsUntil, this.clock.now().getTime()).then(() => 'stop' as const);
      }
    } finally {
      this.slots.release();
    }
    const recorded = this.recorder.record({ delivery, hook, attempt, test: false }).catch((error) => {
      // during a storage outage: a warning without a stack (the outage itself is logged once, by StorageHealth)
      const outage = this.storage?.isOutage(error) === true;
      this.logger[outage ? 'warn' : 'error'](
        { ...(outage ? { reason: (error as Error).message } : { err: error }), deliveryId: delivery.id, webhookId: hook.id },
        'could not record an attempt; it will be attempted again (same webhook-id)',
      );
    });
    if (attempt.throttle) await this.pace.throttleAfter(hook, attempt, rest.slice(1), this.clock.now().getTime());
    return { delivered: attempt.verdict.kind === 'delivered', throttled: attempt.throttle !== undefined, recorded };
  }

  private waitFor<T>(recorded: Promise<T>): Promise<T> {
    this.recorder.hurry();
    return recorded;
  }
}
