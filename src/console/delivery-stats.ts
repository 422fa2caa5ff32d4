import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { HourCount, HourlyDeliveries, StatsOutcome } from '../contract/deliveries.js';
import { EventStore } from '../event-store/event-store.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { notFound } from '../shared/errors.js';
import type { DeliveryStatus } from '../webhooks/delivery/deliveries.js';

export const HOUR_MS = 3_600_000;
/** The chart's span: the current hour and the 23 before it. */
export const STATS_HOURS = 24;


const OUTCOME: Record<DeliveryStatus, StatsOutcome> = {
  DELIVERED: 'delivered',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  PENDING: 'pending',
  DELIVERING: 'pending',
  RETRYING: 'pending',
  HELD: 'pending',
  // its activity went out within another delivery's message (a chat webhook's window), whose row shows how that went
  COALESCED: 'delivered',
};

/** The window: from the start of the hour 23 hours before the current one, up to now. */
export function hourWindow(now: Date, hours = STATS_HOURS): { from: number; to: number } {
  const currentHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  return { from: currentHour - (hours - 1) * HOUR_MS, to: now.getTime() };
}

/** Counts per (hour index, status) folded into one entry per hour, by final status. */
export function toHours(rows: { hour: number; status: DeliveryStatus; n: number }[], from: number, hours = STATS_HOURS): HourCount[] {
  const result = Array.from({ length: hours }, (_, i) => ({ start: new Date(from + i * HOUR_MS).toISOString(), delivered: 0, failed: 0, skipped: 0, pending: 0 }));
  for (const row of rows) {
    if (row.hour >= 0 && row.hour < hours) result[row.hour][OUTCOME[row.status]] += row.n;
  }
  return result;
}

/** Deliveries of one webhook created in each of the last 24 hours, by their status now. */
export class HourlyDeliveriesQuery extends Query<HourlyDeliveries> {
  constructor(readonly projectId: number, readonly webhookId: number) {
    super();
  }
}

@QueryHandler(HourlyDeliveriesQuery)
export class HourlyDeliveriesHandler implements IQueryHandler<HourlyDeliveriesQuery> {
  constructor(private readonly store: EventStore, @Inject(CLOCK) private readonly clock: Clock) {}

  async execute({ projectId, webhookId }: HourlyDeliveriesQuery): Promise<HourlyDeliveries> {
    if (!(await this.store.queryOne(`SELECT 1 AS found FROM rm_webhooks WHERE id = ? AND project_id = ?`, [webhookId, projectId]))) throw notFound('webhook', webhookId);
    const now = this.clock.now();
    const { from, to } = hourWindow(now);
    const rows = await this.store.query<{ hour: number | string; status: DeliveryStatus; n: number | string }>(
      `SELECT CAST((created_at - ?) / ${HOUR_MS} AS INTEGER) AS hour, status, COUNT(*) AS n FROM webhook_deliveries
       WHERE webhook_id = ? AND created_at >= ? AND created_at <= ? GROUP BY hour, status`,
      [from, webhookId, from, to],
    );
    // engines may hand counts back as strings (64-bit integers): numbers here
    const counts = rows.map((row) => ({ hour: Number(row.hour), status: row.status, n: Number(row.n) }));
    return { webhookId, from: new Date(from).toISOString(), to: now.toISOString(), hours: toHours(counts, from) };
  }
}
