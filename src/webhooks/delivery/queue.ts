import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { SqlWrite } from '../../event-store/event.js';
import { EventStore, OFTEN, type WriteTx } from '../../event-store/event-store.js';
import type { Activity } from '../activity.js';
import { ofAnEvent, testMessage, type DeliveryRow, type DeliveryStatus } from './deliveries.js';
import { ThisInstance } from './instance.js';
import { CLAIMABLE, TAKE_DUE, WAITING, WAITING_STATUSES, lineStartsSql, orderedLines } from './queue-sql.js';

/** The latest block among a webhook's pace rows, returned with its claimed deliveries (no statement of its own). */
const pacedUntil = (keys: readonly string[]) =>
  keys.length === 0 ? '' : `, (SELECT MAX(blocked_until) FROM webhook_pace WHERE key IN (${keys.map(() => '?').join(', ')})) AS paced_until`;

/** A claimed delivery as the statements on it name it: its id, and its position (the partition key on PostgreSQL). */
export type Claimed = Pick<DeliveryRow, 'id' | 'event_position'>;

/**
 * These deliveries, by id and, as a list of values, their positions: on PostgreSQL the statement is then planned
 * against their partitions only (by ids alone, against every partition: issue 26).
 */
const byIdAndPosition = (deliveries: readonly Claimed[]) =>
  `id IN (${deliveries.map(() => '?').join(', ')}) AND event_position IN (${[...new Set(deliveries.map((d) => d.event_position))].map(() => '?').join(', ')})`;
const byIdAndPositionParams = (deliveries: readonly Claimed[]) => [...deliveries.map((d) => d.id), ...new Set(deliveries.map((d) => d.event_position))];

/** Delivery bookkeeping a power cut may roll back: the delivery is then attempted again (at least once). */
export const NOT_DURABLE = { durable: false };

/** A delivery's state after an attempt, written with the attempt's record. */
export interface Settled {
  id: string;
  /** Its event's position (the partition key): the statement then plans only those partitions. */
  eventPosition: number;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/**
 * The delivery queue: the only place that runs its SQL (queue-sql.ts holds the shared fragments). Deliveries are claimed with a lease
 * named after this instance; a claimed delivery leaves DELIVERING when its attempt is
 * recorded (settled), when it may not be attempted now (skipped, held, waiting for its
 * pace slot), or when it is given back (released).
 */
@Injectable()
export class DeliveryQueue {
  /** Deliveries of one webhook one claim takes (its worker attempts them one after another). */
  static readonly CLAIM_BATCH = 50;
  private readonly owner: string;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    instance: ThisInstance,
  ) {
    this.owner = instance.id;
  }

  /**
   * Webhooks with something due now, and, for the others with open deliveries, when the next one comes due.
   * Bounded by the number of webhooks, not of deliveries (a replay may queue a million for one): one
   * index entry per webhook (ix_deliveries_waiting: each webhook's waiting deliveries by due time,
   * visited webhook by webhook), and the few leased ones. For an ordered webhook that looks due, only
   * the first open delivery of each issue's line counts (or none, when the line waits for a message
   * carrying an earlier one): a delivery due behind an earlier one cannot be claimed, and counting it
   * would start a worker that claims nothing, again and again, until the earlier one goes. `ordered`
   * says which webhooks' lines to read (a look costs a pass over the webhook's open deliveries).
   */
  async due(now: number, ordered: (webhookId: number) => Promise<boolean>): Promise<{ webhookIds: number[]; next: { webhookId: number; at: number }[] }> {
    // SQLite would rather take ix_deliveries_due (status = ?) for the status list, and read every waiting delivery
    const waiting = this.store.engine === 'sqlite' ? 'webhook_deliveries INDEXED BY ix_deliveries_waiting' : 'webhook_deliveries';
    const rows = await this.store.query<{ webhook_id: number | null; at: number | null }>(
      `WITH RECURSIVE hooks (id) AS (
         SELECT MIN(webhook_id) FROM ${waiting} WHERE ${WAITING_STATUSES}
         UNION ALL
         SELECT (SELECT MIN(webhook_id) FROM ${waiting} WHERE ${WAITING_STATUSES} AND webhook_id > hooks.id) FROM hooks WHERE hooks.id IS NOT NULL
       )
       SELECT id AS webhook_id, (SELECT MIN(next_attempt_at) FROM ${waiting} WHERE ${WAITING_STATUSES} AND webhook_id = hooks.id) AS at FROM hooks WHERE id IS NOT NULL
       UNION ALL
       SELECT webhook_id, MIN(lease_until) AS at FROM webhook_deliveries WHERE status = 'DELIVERING' AND ${ofAnEvent()} GROUP BY webhook_id`,
      [],
      // it names no position: planned against every partition on each call unless kept prepared (issue 26)
      OFTEN,
    );
    const soonest = new Map<number, number>();
    for (const row of rows) {
      const [webhookId, at] = [Number(row.webhook_id), Number(row.at)];
      soonest.set(webhookId, Math.min(at, soonest.get(webhookId) ?? Infinity));
    }
    const all = [...soonest].map(([webhookId, at]) => ({ webhookId, at }));
    // only an ordered webhook that looks due needs its lines read (one that does not is not due behind them either)
    const lines: number[] = [];
    for (const row of all) if (row.at <= now && (await ordered(row.webhookId))) lines.push(row.webhookId);
    if (lines.length > 0) {
      const starts = new Map((await this.lineStarts(lines)).map((row) => [Number(row.webhook_id), Number(row.at)]));
      for (const row of all) row.at = starts.get(row.webhookId) ?? row.at;
    }
    return { webhookIds: all.filter((row) => row.at <= now).map((row) => row.webhookId), next: all.filter((row) => row.at > now) };
  }

  /**
   * When each of these ordered webhooks next has something to claim: the earliest time among
   * the first open deliveries of its issues' lines (a line that starts with a delivery carried
   * by a message that has not gone waits for that message, which is open itself; and the
   * webhook's earliest open delivery always starts its line, so there is always one).
   */
  private lineStarts(webhookIds: number[]): Promise<{ webhook_id: number; at: number }[]> {
    return this.store.query<{ webhook_id: number; at: number }>(lineStartsSql(webhookIds.length), webhookIds);
  }

  /**
   * Takes the next due deliveries of one webhook in one statement: an unordered webhook's live
   * ones first (a replay's wait behind them: a backfill of a million never holds up today's
   * activities, and ix_deliveries_lane serves that order), each in event order; an ordered
   * webhook's in event order only (an issue's line keeps its order, replayed or not). They
   * are attempted one after another, so the k-th one's lease covers k attempts (a fallback:
   * a dead instance's leases are freed as soon as its heartbeat is missed), and none is
   * ever held by two dispatchers at once. An ordered webhook takes each issue's line up to
   * its first delivery that cannot go now (not due, claimed elsewhere, or carried by a
   * message that has not gone): a whole line when all of it is due, so a coalescing window's
   * end gathers every waiting activity, not only the first of each issue. With `paceKeys` (the
   * webhook's rows in webhook_pace, see SharedPace), each row also carries their block, `paced_until`.
   */
  async claim(webhookId: number, ordered: boolean, limit = DeliveryQueue.CLAIM_BATCH, paceKeys: readonly string[] = []): Promise<DeliveryRow[]> {
    // several instances share the queue: rows another one is claiming right now are skipped, not waited for
    const skipLocked = this.store.engine === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.store.transact((tx) => {
      const now = tx.now.getTime();
      const lines = ordered ? orderedLines(webhookId, now, skipLocked !== '') : TAKE_DUE;
      const [order, takenOrder] = ordered ? ['event_position', 'event_position'] : ['(replay_id IS NOT NULL), event_position', 'replayed, event_position'];
      return tx.all<DeliveryRow>(
        `WITH ${lines.before} due AS (
           SELECT id, issue_id, event_position, recipient_id, (replay_id IS NOT NULL) AS replayed FROM webhook_deliveries d WHERE webhook_id = ? AND ${CLAIMABLE} ${lines.filter}
           ORDER BY ${order} LIMIT ${limit} ${skipLocked}
         ), taken AS (${lines.taken}), numbered AS (SELECT id, ROW_NUMBER() OVER (ORDER BY ${takenOrder}) AS k FROM taken)
         UPDATE webhook_deliveries SET status = 'DELIVERING', lease_owner = ?,
           lease_until = CAST(? AS BIGINT) + (SELECT k FROM numbered WHERE numbered.id = webhook_deliveries.id) * CAST(? AS BIGINT), updated_at = ?
         WHERE id IN (SELECT id FROM numbered) RETURNING *${pacedUntil(paceKeys)}`,
        [...lines.beforeParams, webhookId, now, now, ...lines.takenParams, this.owner, now, this.config.webhooks.timeoutMs + 2_000, now, ...paceKeys],
        // a few texts (ordered or not, the pace keys' count), each kept prepared: planned once per connection (issue 26)
        OFTEN,
      );
    }, NOT_DURABLE);
    // RETURNING keeps no order: the claim's (unordered: live first; each in event order)
    const replayed = (d: DeliveryRow) => (!ordered && d.replay_id ? 1 : 0);
    return rows.sort((a, b) => replayed(a) - replayed(b) || Number(a.event_position) - Number(b.event_position));
  }

  /**
   * An attempt starts only with a whole timeout left on our lease, so it ends before
   * anyone may take the delivery over; a lease running short is extended first, if it
   * is still ours.
   */
  async holdLease(delivery: DeliveryRow, now: number): Promise<boolean> {
    const needed = this.config.webhooks.timeoutMs + 1_000;
    if (delivery.lease_until !== null && delivery.lease_until - now >= needed) return true;
    const until = now + needed + 1_000;
    const renewed = await this.store.transact(
      async (tx) =>
        // with its position: on PostgreSQL only its partition is planned and read (by id alone, every partition is)
        (await tx.get<{ id: string }>(`UPDATE webhook_deliveries SET lease_until = ? WHERE id = ? AND event_position = ? AND status = 'DELIVERING' AND lease_owner = ? RETURNING id`, [
          until,
          delivery.id,
          delivery.event_position,
          this.owner,
        ])) !== undefined,
      NOT_DURABLE,
    );
    if (renewed) delivery.lease_until = until;
    return renewed;
  }

  /**
   * The deliveries' new states after their attempts, in the attempts' record transaction,
   * for those still ours (a lease lost meanwhile is someone else's now); returns their ids.
   */
  async settleAttempts(tx: WriteTx, settled: Settled[], now: number): Promise<Set<string>> {
    if (settled.length === 0) return new Set();
    const rows = settled.map(() => '(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS TEXT))').join(', ');
    // the positions again as a list of values: on PostgreSQL the statement is planned against their partitions only (a
    // join to the VALUES alone would plan every partition: issue 26)
    const positions = [...new Set(settled.map((d) => d.eventPosition))];
    const ours = await tx.all<{ id: string }>(
      `WITH settled (id, event_position, status, attempt_count, next_attempt_at, last_error) AS (VALUES ${rows})
       UPDATE webhook_deliveries SET status = settled.status, attempt_count = settled.attempt_count, next_attempt_at = settled.next_attempt_at,
         last_error = settled.last_error, lease_owner = NULL, lease_until = NULL, updated_at = ?
       FROM settled WHERE webhook_deliveries.id = settled.id AND webhook_deliveries.event_position = settled.event_position
         AND webhook_deliveries.event_position IN (${positions.map(() => '?').join(', ')}) AND webhook_deliveries.lease_owner = ? RETURNING webhook_deliveries.id`,
      [...settled.flatMap((d) => [d.id, d.eventPosition, d.status, d.attemptCount, d.nextAttemptAt, d.lastError]), now, ...positions, this.owner],
    );
    return new Set(ours.map((row) => row.id));
  }

  /** Deliveries leave DELIVERING without an attempt: skipped, held, or waiting (as before) for a later time. */
  async settle(deliveries: readonly Claimed[], status: 'SKIPPED' | 'HELD' | 'WAITING', lastError: string | null, nextAt: number, now: number): Promise<void> {
    if (deliveries.length === 0) return;
    const ids = deliveries.map((d) => d.id);
    const newStatus = status === 'WAITING' ? WAITING : '?';
    const error = status === 'WAITING' ? 'last_error' : '?';
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `UPDATE webhook_deliveries SET status = ${newStatus}, last_error = ${error}, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE ${byIdAndPosition(deliveries)} AND lease_owner = ?`,
            params: [...(status === 'WAITING' ? [] : [status, lastError]), nextAt, now, ...byIdAndPositionParams(deliveries), this.owner],
          },
        ]),
      NOT_DURABLE,
    );
  }

  /** Gives claimed deliveries back to the queue as they were (all of this instance's, without a list). */
  async release(deliveries?: readonly Claimed[]): Promise<void> {
    if (deliveries?.length === 0) return;
    await this.releaseOwn(deliveries ? `AND ${byIdAndPosition(deliveries)}` : '', deliveries ? byIdAndPositionParams(deliveries) : []);
  }

  /** After a storage outage: this instance's leases taken before `before`, of webhooks with no worker now, go back. */
  async releaseIdle(before: number, busyWebhookIds: number[]): Promise<void> {
    const busy = busyWebhookIds.length > 0 ? `AND webhook_id NOT IN (${busyWebhookIds.map(() => '?').join(', ')})` : '';
    await this.releaseOwn(`AND updated_at < ? ${busy}`, [before, ...busyWebhookIds]);
  }

  /** This instance's claimed deliveries matching `which` go back to the queue as they were. */
  private async releaseOwn(which: string, params: unknown[]): Promise<void> {
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `UPDATE webhook_deliveries SET status = ${WAITING}, lease_owner = NULL, lease_until = NULL
                  WHERE status = 'DELIVERING' AND lease_owner = ? AND ${ofAnEvent()} ${which}`,
            params: [this.owner, ...params],
          },
        ]),
      NOT_DURABLE,
    );
  }

  /**
   * Frees the leases of instances that are gone (or all but one's): their deliveries are
   * due at once, as they were before they were claimed. A test message they were sending
   * never got its result: it fails, saying so.
   */
  freeLeases(owners: { of: string[] } | { notOf: string }, now: number): SqlWrite[] {
    const [which, params] = 'of' in owners ? [`IN (${owners.of.map(() => '?').join(', ')})`, owners.of] : ['<> ?', [owners.notOf]];
    return [
      {
        sql: `UPDATE webhook_deliveries SET status = ${WAITING}, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
              WHERE status = 'DELIVERING' AND lease_owner ${which} AND ${ofAnEvent()}`,
        params: [now, now, ...params],
      },
      {
        sql: `UPDATE webhook_deliveries SET status = 'FAILED', last_error = 'interrupted before its result was recorded', lease_owner = NULL, lease_until = NULL, updated_at = ?
              WHERE status = 'DELIVERING' AND lease_owner ${which} AND ${testMessage()}`,
        params: [now, ...params],
      },
    ];
  }

  /** A chat webhook's window (see coalesce/): `lead`'s message is now the digest, and `carried` are COALESCED into it (those still ours). */
  async coalesce(lead: Claimed, digest: string, carried: readonly Claimed[], now: number): Promise<void> {
    await this.store.transact(
      (tx) =>
        tx.exec([
          { sql: `UPDATE webhook_deliveries SET activity = ?, updated_at = ? WHERE id = ? AND event_position = ? AND lease_owner = ?`, params: [digest, now, lead.id, lead.event_position, this.owner] },
          {
            sql: `UPDATE webhook_deliveries SET status = 'COALESCED', carried_by = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE ${byIdAndPosition(carried)} AND lease_owner = ?`,
            params: [lead.id, now, ...byIdAndPositionParams(carried), this.owner],
          },
        ]),
      NOT_DURABLE,
    );
  }

  /** A test message: a delivery of no event (a position of its own below 1), DELIVERING at once under this instance's lease. */
  async insertTest(id: string, webhookId: number, projectId: number, activity: Activity, now: number): Promise<DeliveryRow> {
    return this.store.transact(async (tx) => {
      const [n] = await tx.nextIds('test_messages', 1);
      await tx.exec([
        {
          sql: `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, lease_owner, lease_until, created_at, updated_at)
                VALUES (?, ?, ?, ?, NULL, ?, ?, 'DELIVERING', ?, ?, ?, ?, ?)`,
          params: [id, webhookId, projectId, -n, activity.type, JSON.stringify(activity), now, this.owner, now + this.config.webhooks.timeoutMs * 2, now, now],
        },
      ]);
      return (await tx.get<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ? AND event_position = ?`, [id, -n]))!;
    }, NOT_DURABLE);
  }
}
