import type { EventStore, WriteTx } from '../../event-store/event-store.js';
import type { DeliveryStatus } from '../delivery/deliveries.js';
import { deliveryId } from '../subscription/schedule-deliveries.js';
import { replayAction, sends, type ReplayAction } from './replay-plan.js';
import type { Found } from './replay-scan.js';
import { NO_ACTIVITY } from './replayed-activity.js';

/** An activity a replay sends, with the delivery it may already have and what the replay does with it. */
export interface Planned extends Found {
  id: string;
  existing: DeliveryStatus | undefined;
  action: ReplayAction;
}

const ROWS_PER_INSERT = 200;
const IDS_PER_LOOKUP = 500;

/** The activities of one page the replay sends, given the deliveries they already have. */
export async function planPage(store: EventStore, found: Found[], webhookId: number, includeDelivered: boolean): Promise<Planned[]> {
  const existing = new Map<string, DeliveryStatus>();
  const ids = found.map((f) => deliveryId(f.event.eventId, webhookId));
  // by primary key (a range of positions with the webhook's id lets SQLite pick the webhook's index and
  // scan every delivery the replay has made so far, page after page); on PostgreSQL the page's positions bound
  // it too, so only the partitions of the page's range are planned and read (by id alone, every one is)
  for (let i = 0; i < ids.length; i += IDS_PER_LOOKUP) {
    const chunk = ids.slice(i, i + IDS_PER_LOOKUP);
    const positions = found.slice(i, i + IDS_PER_LOOKUP).map((f) => f.event.position);
    const [range, bounds] = store.engine === 'postgres' ? [' AND event_position BETWEEN ? AND ?', [Math.min(...positions), Math.max(...positions)]] : ['', []];
    for (const row of await store.query<{ id: string; status: DeliveryStatus }>(`SELECT id, status FROM webhook_deliveries WHERE id IN (${chunk.map(() => '?').join(', ')})${range}`, [...chunk, ...bounds])) {
      existing.set(row.id, row.status);
    }
  }
  return found
    .map((f, i) => ({ ...f, id: ids[i], existing: existing.get(ids[i]), action: replayAction(existing.get(ids[i]), includeDelivered) }))
    .filter((p) => sends(p.action));
}

/** The replay a page belongs to, as the instance running it holds it. */
export interface ReplayHold {
  id: string;
  webhookId: number;
  projectId: number;
  owner: string;
}

/** The replay is no longer this instance's (taken for dead, another took it over): its page is not written. */
export class ReplayLostError extends Error {
  constructor(replayId: string) {
    super(`replay ${replayId} is no longer run by this instance`);
    this.name = 'ReplayLostError';
  }
}

/**
 * One page's deliveries and the replay's progress, in one short transaction: new ones
 * inserted, undelivered (or asked-for) ones queued again, and how far the replay has read.
 * Resolves with how many it queued: the rows the database took, not those planned (another
 * replay of the same events may have queued them first).
 */
export async function queuePage(store: EventStore, planned: Planned[], replay: ReplayHold, scannedTo: number, finished: boolean, now: number): Promise<number> {
  return store.transact(
    async (tx) => {
      const queued = (await insertNew(tx, planned, replay, now)) + (await queueAgain(tx, planned, replay, now));
      const progressed = await tx.get<{ id: string }>(
        `UPDATE webhook_replays SET scanned_to = ?, count = count + ?, state = ?, owner = ?, updated_at = ?
         WHERE id = ? AND owner = ? AND state = 'scanning' RETURNING id`,
        [scannedTo, queued, finished ? 'queued' : 'scanning', finished ? null : replay.owner, now, replay.id, replay.owner],
      );
      if (!progressed) throw new ReplayLostError(replay.id);
      if (queued > 0) tx.signal('deliveries');
      return queued;
    },
    // delivery bookkeeping, as the live scheduler's: a power cut may undo a page (the replay redoes it, same ids)
    { durable: false },
  );
}

/** New deliveries, without a copy of their activity (see replayed-activity.ts: it is built from their event when sent). */
async function insertNew(tx: WriteTx, planned: Planned[], replay: ReplayHold, now: number): Promise<number> {
  const inserts = planned.filter((p) => p.action === 'insert');
  let inserted = 0;
  for (let i = 0; i < inserts.length; i += ROWS_PER_INSERT) {
    const chunk = inserts.slice(i, i + ROWS_PER_INSERT);
    const rows = await tx.all(
      `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, created_at, updated_at, replay_id)
       VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)`).join(', ')} ON CONFLICT DO NOTHING RETURNING id`,
      chunk.flatMap((p) => [p.id, replay.webhookId, replay.projectId, p.event.position, p.activity.issue?.id ?? null, p.activity.type, NO_ACTIVITY, now, now, now, replay.id]),
    );
    inserted += rows.length;
  }
  return inserted;
}

/**
 * Under the same id (the same webhook-id to the receiver), the activity as at its event (built
 * from the log when it is sent: its stored activity, or a digest it led, is dropped), the retry schedule anew.
 */
async function queueAgain(tx: WriteTx, planned: Planned[], replay: ReplayHold, now: number): Promise<number> {
  let queued = 0;
  for (const p of planned.filter((x) => x.action === 'requeue')) {
    const requeued = await tx.get(
      `UPDATE webhook_deliveries SET status = 'PENDING', activity = ?, carried_by = NULL, next_attempt_at = ?, retry_base = attempt_count, replay_id = ?, updated_at = ?
       WHERE id = ? AND event_position = ? AND status IN ('DELIVERED', 'COALESCED', 'FAILED', 'SKIPPED') RETURNING id`,
      [NO_ACTIVITY, now, replay.id, now, p.id, p.event.position],
    );
    // none: another replay queued it again first
    if (requeued) queued++;
  }
  return queued;
}
