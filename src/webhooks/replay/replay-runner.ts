import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { STORAGE_GATE, type StorageGate } from '../../database/storage-health.js';
import { EventStore } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { configOf, type WebhookRow } from '../config/webhook.projection.js';
import { DeliveryPartitions } from '../delivery/delivery-partitions.js';
import { ThisInstance } from '../delivery/instance.js';
import { planPage, queuePage, ReplayLostError, type ReplayHold } from './replay-deliveries.js';
import { readRangePage, REPLAY_PAGE, ReplayScan, type ReplayRules } from './replay-scan.js';

/** A replay's row, as the runner reads it. */
interface ReplayRow {
  id: string;
  webhook_id: number;
  project_id: number;
  to_position: number;
  scanned_to: number;
  request: string;
  rules: string;
}

/**
 * Runs replays in the background, a page of the range at a time: each page's deliveries
 * and the replay's progress (the position read up to, the count queued) commit together in
 * one short transaction, and the loop gets a turn between pages (and within them, see
 * TimeSlice), so requests, heartbeats and live deliveries keep their rhythm however big
 * the range.
 *
 * A replay names the instance running it (owner). One that no running instance holds is
 * taken on where it stood, by whichever instance looks first (every POLL_MS, and at start):
 * its instance stopped (a shutdown lets go of its replays after their current page), or
 * died (a crash: its heartbeat row is gone). So a restart resumes a replay from the last
 * page it committed, and nothing is queued twice (the delivery ids are stable). A replay
 * that fails for another reason than storage being out of reach is marked failed, with why.
 */
@Injectable()
export class ReplayRunner implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly POLL_MS = 5_000;
  private readonly logger = new Logger('ReplayRunner');
  private readonly running = new Map<string, Promise<void>>();
  private readonly owner: string;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    instance: ThisInstance,
    private readonly partitions: DeliveryPartitions,
    @Optional() @Inject(STORAGE_GATE) private readonly storage?: StorageGate,
  ) {
    this.owner = instance.id;
  }

  /** The id the replays this instance runs are held under. */
  get ownerId(): string {
    return this.owner;
  }

  onApplicationBootstrap(): void {
    // a process that runs no background work (the CLI, some tests) takes on no one else's replay
    if (!this.config.webhooks.background) return;
    this.timer = setInterval(() => void this.adopt(), ReplayRunner.POLL_MS);
    this.timer.unref();
    void this.adopt();
  }

  /** Each replay finishes the page it is on and is let go of (another instance, or the next start, goes on with it). */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs a replay this instance holds, in the background. */
  run(replayId: string): void {
    if (this.stopping || this.running.has(replayId)) return;
    const job = this.job(replayId).finally(() => this.running.delete(replayId));
    this.running.set(replayId, job);
  }

  /** Takes on the replays still scanning that no running instance holds. */
  private async adopt(): Promise<void> {
    if (this.stopping || this.storage?.available === false) return;
    try {
      const now = this.clock.now().getTime();
      const adopted = await this.store.transact(
        (tx) =>
          tx.all<{ id: string }>(
            `UPDATE webhook_replays SET owner = ?, updated_at = ?
             WHERE state = 'scanning' AND (owner IS NULL OR owner = ? OR owner NOT IN (SELECT id FROM herald_instances)) RETURNING id`,
            [this.owner, now, this.owner],
          ),
        { durable: false },
      );
      for (const { id } of adopted) {
        if (!this.running.has(id)) this.logger.log({ replayId: id }, 'going on with a replay where it stood');
        this.run(id);
      }
    } catch (error) {
      if (!this.storage?.isOutage(error)) this.logger.error({ err: error }, 'could not look for replays to go on with');
    }
  }

  private async job(replayId: string): Promise<void> {
    try {
      await this.scan(replayId);
    } catch (error) {
      if (error instanceof ReplayLostError) return this.logger.warn({ replayId }, error.message);
      // storage out of reach: the replay stays this instance's, and the next look (adopt) goes on with it
      if (this.storage?.isOutage(error)) return this.logger.warn({ replayId, reason: (error as Error).message }, 'a replay paused: storage unavailable');
      this.logger.error({ err: error, replayId }, 'a replay failed');
      await this.fail(replayId, (error as Error).message ?? String(error)).catch(() => undefined);
    }
  }

  /** Reads the rest of the range, page by page, queuing what it sends. */
  private async scan(replayId: string): Promise<void> {
    const row = await this.store.queryOne<ReplayRow>(`SELECT * FROM webhook_replays WHERE id = ? AND owner = ? AND state = 'scanning'`, [replayId, this.owner]);
    if (!row) return;
    const hold: ReplayHold = { id: row.id, webhookId: Number(row.webhook_id), projectId: Number(row.project_id), owner: this.owner };
    const includeDelivered = (JSON.parse(row.request) as { includeDelivered?: boolean }).includeDelivered === true;
    const budget = new TimeSlice(TimeSlice.SHORT_MS);
    let scan: ReplayScan | null = null;
    const to = Number(row.to_position);
    for (let after = Number(row.scanned_to); ; ) {
      if (this.stopping) return this.letGo(replayId);
      // the webhook is read again each page: one deleted meanwhile gets nothing more
      const hook = await this.store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ? AND project_id = ?`, [hold.webhookId, hold.projectId]);
      if (!hook) return this.fail(replayId, 'the webhook was deleted');
      if (!scan) {
        scan = new ReplayScan(this.store, this.config, hold.projectId, configOf(hook), JSON.parse(row.rules) as ReplayRules, budget);
        await scan.start();
      }
      const { events, scannedTo } = await readRangePage(this.store, after, to, REPLAY_PAGE);
      const planned = await planPage(this.store, await scan.next(events), hold.webhookId, includeDelivered);
      // old events' range may have been dropped by the retention (PostgreSQL): it is made again first
      await this.partitions.cover(planned.filter((p) => p.action === 'insert').map((p) => p.event.position));
      await queuePage(this.store, planned, hold, scannedTo, scannedTo >= to, this.clock.now().getTime());
      if (scannedTo >= to) return;
      after = scannedTo;
      await budget.turn();
    }
  }

  /** Stopping: the replay waits, where it stood, for whoever goes on with it. */
  private async letGo(replayId: string): Promise<void> {
    await this.store.transact((tx) => tx.exec([{ sql: `UPDATE webhook_replays SET owner = NULL WHERE id = ? AND owner = ?`, params: [replayId, this.owner] }]), { durable: false });
  }

  private async fail(replayId: string, reason: string): Promise<void> {
    const now = this.clock.now().getTime();
    await this.store.transact(
      (tx) =>
        tx.exec([{ sql: `UPDATE webhook_replays SET state = 'failed', error = ?, owner = NULL, updated_at = ? WHERE id = ? AND owner = ?`, params: [reason, now, replayId, this.owner] }]),
      { durable: false },
    );
  }
}
