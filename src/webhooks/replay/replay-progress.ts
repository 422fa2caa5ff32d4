import type { ReplayProgress, ReplayState } from '../../contract/replays.js';
import type { EventStore } from '../../event-store/event-store.js';
import { notFound } from '../../shared/errors.js';
import { LoopBudget } from '../../shared/loop-budget.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';

/** Positions of a replay's range counted at once: at most this many of its deliveries read from the index per slice. */
const COUNT_SLICE = 20_000;

interface ReplayRow {
  id: string;
  webhook_id: number;
  from_position: number;
  to_position: number;
  scanned_to: number;
  state: ReplayState;
  error: string | null;
  count: number;
  created_at: number;
}

/**
 * Where a replay stands: its own record (how far it has read, how many it queued, whether
 * it failed), and its deliveries by status now, counted from the index a slice of its range
 * at a time (a replay may have queued a million), giving the loop a turn between slices.
 */
export async function readProgress(store: EventStore, projectId: number, webhookId: number, replayId: string): Promise<ReplayProgress> {
  const replay = await store.queryOne<ReplayRow>(`SELECT * FROM webhook_replays WHERE id = ? AND webhook_id = ? AND project_id = ?`, [replayId, webhookId, projectId]);
  if (!replay) throw notFound('replay', replayId);
  const statuses = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
  const budget = new LoopBudget();
  const [from, upTo] = [Number(replay.from_position), Number(replay.scanned_to)];
  for (let after = from - 1; after < upTo; after += COUNT_SLICE) {
    const rows = await store.query<{ status: DeliveryStatus; n: number }>(
      `SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE replay_id = ? AND event_position > ? AND event_position <= ? GROUP BY status`,
      [replayId, after, Math.min(after + COUNT_SLICE, upTo)],
    );
    for (const row of rows) statuses[row.status] += Number(row.n);
    await budget.slice();
  }
  const waiting = statuses.PENDING + statuses.RETRYING + statuses.HELD + statuses.DELIVERING;
  return {
    id: replay.id,
    webhookId: Number(replay.webhook_id),
    fromPosition: from,
    toPosition: Number(replay.to_position),
    state: replay.state,
    scannedTo: upTo,
    count: Number(replay.count),
    error: replay.error,
    createdAt: new Date(Number(replay.created_at)).toISOString(),
    statuses,
    done: replay.state === 'queued' && waiting === 0,
  };
}
