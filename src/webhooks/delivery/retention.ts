import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { EventStore } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { yieldToLoop } from '../../shared/time-slice.js';
import { IMMEDIATELY, StartUpGate } from '../../shared/start-up.js';
import { testMessage } from './deliveries.js';
import { DeliveryPartitions } from './delivery-partitions.js';
import { NOT_DURABLE } from './queue.js';

/**
 * Removes finished deliveries (and their attempts) once they are past the retention
 * period: hourly in the background. On PostgreSQL, whole ranges of event positions go
 * first, their partitions dropped (DeliveryPartitions.dropFinished: no row-by-row delete,
 * nothing left for vacuum). What remains (test messages, ranges still partly young, and
 * every delivery on SQLite) goes in chunks of a short transaction each, yielding
 * between them (on SQLite a chunk of 500 with their attempts' bodies took 30 to 100 ms
 * of the loop; 100 take a few). The events themselves are kept forever. Receivers' pace rows
 * (webhook_pace) quiet for as long go too: nothing in them counts any more.
 */
@Injectable()
export class DeliveryRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private static readonly CHUNK = 100;
  private readonly logger = new Logger('DeliveryRetention');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly partitions: DeliveryPartitions,
    @Optional() private readonly startUp?: StartUpGate,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhooks.background) (this.startUp ?? IMMEDIATELY).whenOpen(() => this.start());
  }

  private start(): void {
    if (this.stopped) return;
    const cleanup = () => void this.cleanup().catch((error) => this.logger.error({ err: error }, 'delivery cleanup failed'));
    this.timer = setInterval(cleanup, 3_600_000);
    this.timer.unref();
    cleanup();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Removes what is past retention; resolves with the number of deliveries removed. */
  async cleanup(): Promise<number> {
    const now = this.clock.now().getTime();
    const before = now - this.config.webhooks.retentionDays * 86_400_000;
    // a test whose process died mid-attempt never got its result: say so
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'interrupted before its result was recorded', lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE ${testMessage()} AND status = 'DELIVERING' AND lease_until < ?`,
            params: [now, now],
          },
          { sql: `DELETE FROM webhook_pace WHERE updated_at < ? AND blocked_until < ?`, params: [before, now] },
        ]),
      NOT_DURABLE,
    );
    const started = performance.now();
    let removed = 0;
    for (const range of await this.partitions.dropFinished(before)) removed += range.rows;
    // a stopping service stops sweeping: the rest goes at the next sweep
    while (!this.stopped) {
      const chunk = await this.store.transact(async (tx) => {
        const ids = (
          await tx.all<{ id: string }>(`SELECT id FROM webhook_deliveries WHERE status IN ('DELIVERED', 'FAILED', 'SKIPPED', 'COALESCED') AND updated_at < ? LIMIT ${DeliveryRetention.CHUNK}`, [before])
        ).map((r) => r.id);
        if (ids.length > 0) {
          const list = ids.map(() => '?').join(', ');
          await tx.exec([
            { sql: `DELETE FROM webhook_delivery_attempts WHERE delivery_id IN (${list})`, params: ids },
            { sql: `DELETE FROM webhook_deliveries WHERE id IN (${list})`, params: ids },
          ]);
        }
        return ids.length;
      }, NOT_DURABLE);
      removed += chunk;
      if (chunk < DeliveryRetention.CHUNK) break;
      await yieldToLoop();
    }
    if (removed > 0) this.logger.log({ removed, durationMs: Math.round(performance.now() - started) }, 'removed the finished deliveries past retention');
    return removed;
  }
}
