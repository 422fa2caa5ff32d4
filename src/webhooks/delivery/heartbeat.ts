import { setMaxListeners } from 'node:events';
import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { HERALD_CONFIG, StartRefused, type HeraldConfig } from '../../config/config.js';
import { SqliteProcessLock } from '../../database/sqlite-process-lock.js';
import { STORAGE_GATE, type StorageGate } from '../../database/storage-health.js';
import type { SqlWrite } from '../../event-store/event.js';
import { EventStore, type WriteTx } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { ThisInstance } from './instance.js';
import { DeliveryQueue, NOT_DURABLE } from './queue.js';

/**
 * Each running instance has a row it renews every second. Whenever a heartbeat is older
 * than a few intervals (and, on SQLite, at start: one process serves the file, so every
 * other row is a process that died) that instance is dead: its leases are released and
 * its deliveries are due at once, instead of waiting out their leases.
 *
 * The other side of it: an instance that cannot renew its own heartbeat for a while may
 * soon be taken for dead, so before that happens it stops attempting (its `signal` aborts
 * the attempts in flight and drops what it claimed) until its heartbeat is back. That is
 * also the pause of the delivery loop while the database is out of reach.
 */
@Injectable()
export class InstanceHeartbeat implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  static readonly INTERVAL_MS = 1_000;
  /** A heartbeat older than this is a dead instance's. */
  static readonly DEAD_AFTER_MS = 6_000;
  /** An instance whose own last heartbeat is older than this stops attempting (well before others may take it for dead). */
  static readonly FENCE_AFTER_MS = 4_000;
  private readonly logger = new Logger('InstanceHeartbeat');
  private lock: SqliteProcessLock | null = null;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private lastBeat = 0;
  private current = attemptsSignal();

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly instance: ThisInstance,
    private readonly queue: DeliveryQueue,
    @Optional() @Inject(STORAGE_GATE) private readonly storage?: StorageGate,
  ) {}

  /** SQLite: a second process on the same file refuses to start (that is what makes the release at start safe). */
  onModuleInit(): void {
    const { database } = this.config;
    if (database.kind !== 'sqlite') return;
    this.lock = SqliteProcessLock.acquire(database.path);
    if (!this.lock) {
      throw new StartRefused(`another Herald process is using ${database.path} (SQLite serves one process: stop the other one, or use PostgreSQL to run several instances)`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const now = this.clock.now().getTime();
    const dead = await this.store.transact(async (tx) => {
      await tx.exec([this.registration(now)]);
      const reaped = await this.reap(tx, now, this.lock !== null);
      tx.signal('deliveries');
      return reaped;
    }, NOT_DURABLE);
    this.lastBeat = now;
    if (dead > 0) this.logger.log({ instance: this.instance.id, dead }, 'released the deliveries of instances that died');
    if (!this.config.webhooks.background) return;
    this.timer = setInterval(() => this.tick(), InstanceHeartbeat.INTERVAL_MS);
    this.timer.unref();
  }

  /** After the dispatcher gave its leases back: the row goes, and the SQLite file is free for the next process. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.store
      .transact((tx) => tx.exec([{ sql: `DELETE FROM herald_instances WHERE id = ?`, params: [this.instance.id] }]), NOT_DURABLE)
      .catch((error) => this.logger.warn({ err: error }, 'could not remove this instance\'s heartbeat row'));
    this.lock?.release();
  }

  /** Aborted once this instance may have been taken for dead: attempts stop and claims are dropped. A fresh one after. */
  get signal(): AbortSignal {
    return this.current.signal;
  }

  private tick(): void {
    const stale = this.clock.now().getTime() - this.lastBeat;
    if (!this.current.signal.aborted && stale > InstanceHeartbeat.FENCE_AFTER_MS) {
      this.logger.warn({ instance: this.instance.id, staleMs: stale }, 'the heartbeat could not be renewed: no attempts until it is');
      this.current.abort(new Error('this instance lost its heartbeat'));
    }
    this.beating ??= this.beat()
      // a storage outage is logged once, by StorageHealth, not once a second here
      .catch((error) => {
        if (!this.storage?.isOutage(error)) this.logger.warn({ err: error }, 'could not renew the heartbeat');
      })
      .finally(() => (this.beating = null));
  }

  private async beat(): Promise<void> {
    const now = this.clock.now().getTime();
    const stopped = this.current.signal.aborted;
    const { known, dead } = await this.store.transact(async (tx) => {
      const known = (await tx.get(`UPDATE herald_instances SET heartbeat_at = ? WHERE id = ? RETURNING id`, [now, this.instance.id])) !== undefined;
      if (!known) await tx.exec([this.registration(now)]);
      // back after a pause: nothing claimed before it is attempted any more, so it goes back to the queue
      else if (stopped) await tx.exec(this.queue.freeLeases({ of: [this.instance.id] }, now));
      const dead = await this.reap(tx, now, false);
      // the deliveries freed are due: every instance's dispatcher looks
      if (dead > 0 || stopped) tx.signal('deliveries');
      return { known, dead };
    }, NOT_DURABLE);
    this.lastBeat = now;
    if (!known || stopped) {
      if (!known) this.logger.warn({ instance: this.instance.id }, 'this instance was taken for dead: its deliveries went to others, it goes on afresh');
      if (!this.current.signal.aborted) this.current.abort(new Error('this instance was taken for dead'));
      this.current = attemptsSignal();
    }
    if (dead > 0) this.logger.log({ instance: this.instance.id, dead }, 'released the deliveries of instances that died');
  }

  /** Removes dead instances (all others: `everyOther`) and frees their leases, in the caller's transaction; returns how many. */
  private async reap(tx: WriteTx, now: number, everyOther: boolean): Promise<number> {
    const dead = (
      await tx.all<{ id: string }>(
        `DELETE FROM herald_instances WHERE id <> ? ${everyOther ? '' : 'AND heartbeat_at < ?'} RETURNING id`,
        everyOther ? [this.instance.id] : [this.instance.id, now - InstanceHeartbeat.DEAD_AFTER_MS],
      )
    ).map((row) => row.id);
    if (everyOther) {
      // one process per file: whatever is claimed and not ours is a dead process's (or an older version's)
      await tx.exec([...this.queue.freeLeases({ notOf: this.instance.id }, now), { sql: `DELETE FROM subscription_leases WHERE owner <> ?`, params: [this.instance.id] }]);
    } else if (dead.length > 0) {
      const list = dead.map(() => '?').join(', ');
      await tx.exec([...this.queue.freeLeases({ of: dead }, now), { sql: `DELETE FROM subscription_leases WHERE owner IN (${list})`, params: dead }]);
    }
    return dead.length;
  }

  private registration(now: number): SqlWrite {
    return {
      sql: `INSERT INTO herald_instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      params: [this.instance.id, this.instance.host, this.instance.pid, now, now],
    };
  }
}

/** Every attempt in flight listens to it: no limit on listeners. */
function attemptsSignal(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
