import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Metrics } from '../../shared/metrics.js';
import { EventBus } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { SqliteEventStore } from '../../event-store/sqlite-event-store.js';
import { checkpointWrite, LogEventsRead, SUBSCRIPTION_NAME } from './schedule-deliveries.js';

/**
 * The checkpointed subscription over the global log that feeds webhooks. It hands the
 * next slice to the EventBus only after the previous slice's scheduling transaction
 * committed (it awaits it), so the checkpoint never passes an unprocessed event. A slice
 * that creates deliveries stores the checkpoint with them; one that creates none moves
 * it in memory and stores it within a second (a crash then redoes slices that add
 * nothing). Woken right after each commit; polls as a fallback.
 */
@Injectable()
export class WebhookSubscription implements OnApplicationBootstrap, OnModuleDestroy {
  private static readonly SLICE = 500;
  private static readonly POLL_MS = 1000;
  private readonly logger = new Logger('WebhookSubscription');
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Processed up to here; the stored checkpoint may lag while slices create no deliveries. */
  private position: number | null = null;
  private storedPosition = 0;
  private lastStored = 0;

  constructor(
    private readonly store: SqliteEventStore,
    private readonly eventBus: EventBus,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Optional() metrics?: Metrics,
  ) {
    if (metrics) metrics.lagSource = (now) => this.lag(now);
  }

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.background) return;
    this.unsubscribe = this.store.onCommit(() => this.wake());
    this.timer = setInterval(() => this.wake(), WebhookSubscription.POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    this.storeCheckpoint();
  }

  /** How far behind the log the subscription is: events not yet processed, and the age of the oldest of them. */
  lag(now: Date): { events: number; seconds: number } {
    const position = this.checkpoint();
    const head = this.store.head();
    if (head <= position) return { events: 0, seconds: 0 };
    const [oldest] = this.store.readAll(position, 1);
    return { events: head - position, seconds: Math.max(0, Math.round((now.getTime() - Date.parse(oldest.occurredAt)) / 1000)) };
  }

  /** The position processed so far. */
  checkpoint(): number {
    if (this.position === null) {
      this.storedPosition =
        this.store.queryOne<{ position: number }>(`SELECT position FROM subscription_checkpoints WHERE name = ?`, [SUBSCRIPTION_NAME])?.position ?? 0;
      this.position = this.storedPosition;
    }
    return this.position;
  }

  /** Writes the in-memory position when slices without deliveries moved it (at most once a second, and at shutdown). */
  private storeCheckpoint(force = true): void {
    if (this.position === null || this.position <= this.storedPosition) return;
    const now = Date.now();
    if (!force && now - this.lastStored < 1000) return;
    const position = this.position;
    this.store.transact((tx) => tx.exec([checkpointWrite(SUBSCRIPTION_NAME, position, tx.now)]), { durable: false });
    this.storedPosition = position;
    this.lastStored = now;
  }

  /** Runs a catch-up now (coalescing concurrent wake-ups). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((error) => {
        this.logger.error({ err: error }, 'webhook subscription failed; retrying from its checkpoint');
        return 0;
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.wake());
        }
      });
  }

  /** Processes every event after the checkpoint; resolves with how many. Tests call it directly. */
  async catchUp(): Promise<number> {
    let processed = 0;
    for (;;) {
      if (this.stopped) return processed;
      const events = this.store.readAll(this.checkpoint(), WebhookSubscription.SLICE);
      if (events.length === 0) {
        this.storeCheckpoint(false);
        return processed;
      }
      // a failed slice leaves the position where it was: the next round tries the same slice
      const created = await new Promise<number>((resolve, reject) => this.eventBus.publish(new LogEventsRead(SUBSCRIPTION_NAME, events, { resolve, reject })));
      this.position = events[events.length - 1].position;
      if (created > 0) this.storedPosition = Math.max(this.storedPosition, this.position);
      processed += events.length;
    }
  }
}
