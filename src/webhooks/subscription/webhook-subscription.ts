import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { STORAGE_GATE, type StorageGate } from '../../database/storage-health.js';
import { EventStore, LOG_START, type LogCursor } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { yieldToLoop } from '../../shared/time-slice.js';
import { IMMEDIATELY, StartUpGate } from '../../shared/start-up.js';
import { ThisInstance } from '../delivery/instance.js';
import { checkpointWrite, LogEventsRead, SUBSCRIPTION_NAME } from './schedule-deliveries.js';

/**
 * The checkpointed subscription over the global log that feeds webhooks. It hands the
 * next slice to the EventBus only after the previous slice's scheduling transaction
 * committed (it awaits it), so the checkpoint never passes an unprocessed event. A slice
 * that creates deliveries stores the checkpoint with them; one that creates none moves
 * it in memory and stores it within a second (a crash then redoes slices that add
 * nothing). Woken right after each commit (and, on PostgreSQL, by other instances'
 * commits); polls as a fallback.
 *
 * Several instances may run it against one database: a lease row names the one that
 * consumes, renewed while it works; when its holder dies another takes over once the
 * lease runs out. Should two ever overlap, nothing is doubled: deliveries are unique
 * per (event, webhook) and the checkpoint never moves back.
 */
@Injectable()
export class WebhookSubscription implements OnApplicationBootstrap, OnModuleDestroy {
  private static readonly SLICE = 100;
  private static readonly POLL_MS = 1000;
  /** How long a consumer's lease lasts without renewal: the takeover time after a crash. */
  static readonly LEASE_MS = 5000;
  /** How long a catch-up waits for committed events an older, still running transaction keeps out of reach. */
  private static readonly SETTLE_MS = 2000;
  private readonly logger = new Logger('WebhookSubscription');
  /** This instance (its heartbeat's id: when it dies, its lease is freed at once). */
  private readonly owner: string;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Processed up to here; the stored checkpoint may lag while slices create no deliveries. */
  private cursor: LogCursor | null = null;
  private storedCursor: LogCursor = LOG_START;
  private lastStored = 0;
  private leaseUntil = 0;

  constructor(
    private readonly store: EventStore,
    private readonly eventBus: EventBus,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(STORAGE_GATE) private readonly storage?: StorageGate,
    @Optional() instance?: ThisInstance,
    @Optional() private readonly startUp?: StartUpGate,
  ) {
    this.owner = (instance ?? new ThisInstance()).id;
  }

  onApplicationBootstrap(): void {
    // once the start-up has checked the log (and rebuilt outdated read models)
    if (this.config.webhooks.background) (this.startUp ?? IMMEDIATELY).whenOpen(() => this.start());
  }

  private start(): void {
    if (this.stopped) return;
    const unsubscribeLog = this.store.onLogAdvanced(() => this.wake());
    // after a storage outage (during which it paused), at once
    const unsubscribeStorage = this.storage?.onAvailable(() => this.wake());
    this.unsubscribe = () => {
      unsubscribeLog();
      unsubscribeStorage?.();
    };
    this.timer = setInterval(() => this.wake(), WebhookSubscription.POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await this.storeCheckpoint().catch((error) => this.logger.error({ err: error }, 'could not store the webhook checkpoint at shutdown'));
    await this.releaseLease().catch(() => undefined);
  }

  /** How far behind the log the subscription is: events not yet processed, and the age of the oldest of them. */
  async lag(now: Date): Promise<{ events: number; seconds: number }> {
    // the consumer knows where it is; another instance reads what the consumer stored
    const cursor = this.leaseUntil > 0 && this.cursor ? this.cursor : await this.storedCheckpoint();
    const events = await this.store.countAfter(cursor);
    if (events === 0) return { events: 0, seconds: 0 };
    const { events: [oldest] } = await this.store.readLog(cursor, 1);
    if (!oldest) return { events, seconds: 0 };
    return { events, seconds: Math.max(0, Math.round((now.getTime() - Date.parse(oldest.occurredAt)) / 1000)) };
  }

  /** Where processing stands. */
  async checkpoint(): Promise<LogCursor> {
    if (this.cursor === null) {
      this.storedCursor = await this.storedCheckpoint();
      this.cursor = this.storedCursor;
    }
    return this.cursor;
  }

  private async storedCheckpoint(): Promise<LogCursor> {
    const row = await this.store.queryOne<{ position: number; transaction_id: string }>(`SELECT position, transaction_id FROM subscription_checkpoints WHERE name = ?`, [
      SUBSCRIPTION_NAME,
    ]);
    return row ? { position: Number(row.position), transactionId: String(row.transaction_id) } : LOG_START;
  }

  /** Writes the in-memory cursor when slices without deliveries moved it (at most once a second, and at shutdown). */
  private async storeCheckpoint(force = true): Promise<void> {
    const cursor = this.cursor;
    if (cursor === null || sameCursor(cursor, this.storedCursor)) return;
    const now = Date.now();
    if (!force && now - this.lastStored < 1000) return;
    await this.store.transact((tx) => tx.exec([checkpointWrite(SUBSCRIPTION_NAME, cursor, tx.now)]), { durable: false });
    this.storedCursor = cursor;
    this.lastStored = now;
  }

  /**
   * Takes or renews the consumer lease. Whoever holds it consumes; the others wait, and
   * take over once it has not been renewed for LEASE_MS.
   */
  private async holdLease(): Promise<boolean> {
    const now = this.clock.now().getTime();
    if (this.leaseUntil - now > WebhookSubscription.LEASE_MS / 2) return true;
    const until = now + WebhookSubscription.LEASE_MS;
    const held = await this.store.transact(
      (tx) =>
        tx.get<{ owner: string }>(
          `INSERT INTO subscription_leases (name, owner, lease_until) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
           WHERE subscription_leases.owner = excluded.owner OR subscription_leases.lease_until < ?
           RETURNING owner`,
          [SUBSCRIPTION_NAME, this.owner, until, now],
        ),
      { durable: false },
    );
    const ours = held?.owner === this.owner;
    if (ours && this.leaseUntil === 0) this.logger.log({ owner: this.owner }, 'this instance consumes the log for webhooks');
    if (!ours && this.leaseUntil !== 0) {
      // someone else took over: start again from the stored checkpoint when the lease comes back
      this.logger.warn({ owner: this.owner }, 'the webhook subscription lease passed to another instance');
      this.cursor = null;
    }
    this.leaseUntil = ours ? until : 0;
    return ours;
  }

  private async releaseLease(): Promise<void> {
    if (this.leaseUntil === 0) return;
    await this.store.transact((tx) => tx.exec([{ sql: `DELETE FROM subscription_leases WHERE name = ? AND owner = ?`, params: [SUBSCRIPTION_NAME, this.owner] }]), {
      durable: false,
    });
    this.leaseUntil = 0;
  }

  /** Runs a catch-up now (coalescing concurrent wake-ups). */
  wake(): void {
    if (this.stopped) return;
    // paused while storage is unavailable (no loop of failing reads): StorageHealth wakes it when storage is back
    if (this.storage?.available === false) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((error) => {
        // a storage outage is logged once, by StorageHealth
        if (!this.storage?.isOutage(error)) this.logger.error({ err: error }, 'webhook subscription failed; retrying from its checkpoint');
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
    let waited = 0;
    for (;;) {
      if (this.stopped) return processed;
      if (!(await this.holdLease())) return processed;
      const from = await this.checkpoint();
      const { events, cursor } = await this.store.readLog(from, WebhookSubscription.SLICE);
      if (events.length === 0) {
        // committed events an older transaction still hides (PostgreSQL): they show as soon as it ends
        if (waited < WebhookSubscription.SETTLE_MS && (await this.store.countAfter(from)) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          waited += 5;
          continue;
        }
        await this.storeCheckpoint(false);
        return processed;
      }
      // a failed slice leaves the cursor where it was: the next round tries the same slice
      const created = await new Promise<number>((resolve, reject) => this.eventBus.publish(new LogEventsRead(SUBSCRIPTION_NAME, events, cursor, { resolve, reject }, from)));
      this.cursor = cursor;
      if (created > 0) this.storedCursor = cursor;
      processed += events.length;
      // a slice that created no delivery wrote nothing: on SQLite nothing here has left the loop to others yet
      await yieldToLoop();
    }
  }
}

function sameCursor(a: LogCursor, b: LogCursor): boolean {
  return a.position === b.position && a.transactionId === b.transactionId;
}
