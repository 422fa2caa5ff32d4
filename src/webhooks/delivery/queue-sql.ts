import { ofAnEvent } from './deliveries.js';

/*
 * The delivery queue's SQL fragments (DeliveryQueue runs them): which deliveries are open,
 * which may be claimed now, and an ordered webhook's lines (each issue's deliveries in order).
 */

/** Not final: what ix_deliveries_open holds (the same words, so both engines see the index applies); `x` qualifies the columns (`e.`). */
export const open = (x = '') => `${x}status IN ('PENDING', 'RETRYING', 'HELD', 'DELIVERING')`;
export const OPEN = open();
/** Waiting for an attempt: what ix_deliveries_waiting holds. */
export const WAITING_STATUSES = `status IN ('PENDING', 'RETRYING', 'HELD')`;
/** Due, or leased by a dispatcher that is gone (two parameters: now, now). Test messages are never queued: they are one synchronous attempt. */
export const claimable = (x = '') =>
  `${open(x)} AND ${ofAnEvent(x)} AND ((${x}status IN ('PENDING', 'RETRYING', 'HELD') AND ${x}next_attempt_at <= ?) OR (${x}status = 'DELIVERING' AND ${x}lease_until < ?))`;
export const CLAIMABLE = claimable();
/** When an open delivery may next be claimed: its time, or when its lease runs out. */
export const OPEN_AT = `CASE WHEN status = 'DELIVERING' THEN lease_until ELSE next_attempt_at END`;

/**
 * Direct messages (recipient_id set) are in no line: one waiting for its retry holds back none
 * of its issue's channel messages, and none waits for them (each goes to its own person).
 *
 * Where each issue's line of an ordered webhook stops: per issue, the first position whose
 * delivery has not gone yet and is `stopped` (a condition on its alias `e`, or on `k` for the
 * message carrying it). A delivery COALESCED into a message that has not gone yet has not gone
 * either: its issue's later deliveries wait for that message. One pass over the webhook's open
 * deliveries, and what they carry (found from them: `carried_by` is set only on COALESCED
 * deliveries, and a replay that queues one again clears it), grouped: no look-up per delivery.
 */
const lineStops = (stopped: (x: string) => string) => `
  SELECT issue_id, MIN(event_position) AS first FROM (
    SELECT e.issue_id, e.event_position FROM webhook_deliveries e WHERE e.webhook_id = ? AND e.recipient_id IS NULL AND ${open('e.')} AND ${stopped('e.')}
    UNION ALL
    SELECT e.issue_id, e.event_position FROM webhook_deliveries k JOIN webhook_deliveries e ON e.carried_by = k.id
      WHERE k.webhook_id = ? AND ${open('k.')} AND ${stopped('k.')}
  ) line WHERE issue_id IS NOT NULL GROUP BY issue_id`;
/** What an unordered webhook's claim adds to its statement: nothing (it takes its due deliveries, up to the limit). */
export const TAKE_DUE = { before: '', beforeParams: [] as unknown[], filter: '', taken: 'SELECT id, event_position, replayed FROM due', takenParams: [] as unknown[] };

/**
 * What an ordered webhook's claim adds: it takes each line's due part. A delivery behind one that cannot
 * go now is not taken (nor counted against the limit); and on PostgreSQL, where instances claim
 * side by side, a due delivery another instance is claiming right now (skipped, so not in
 * `due`) stops its line too. On SQLite claims take turns: there is none.
 */
export function orderedLines(webhookId: number, now: number, sideBySide: boolean): typeof TAKE_DUE {
  return {
    before: `held AS (${lineStops((x) => `NOT (${claimable(x)})`)}),`,
    beforeParams: [webhookId, now, now, webhookId, now, now],
    filter: `AND (d.recipient_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM held WHERE held.issue_id = d.issue_id AND held.first < d.event_position))`,
    ...(sideBySide
      ? {
          taken: `WITH passed AS (${lineStops((x) => `${x}id NOT IN (SELECT id FROM due)`)})
                  SELECT id, event_position, replayed FROM due WHERE due.recipient_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM passed WHERE passed.issue_id = due.issue_id AND passed.first < due.event_position)`,
          takenParams: [webhookId, webhookId],
        }
      : { taken: TAKE_DUE.taken, takenParams: [] }),
  };
}

/** A delivery given back without an attempt waits as it did before it was claimed. */
export const WAITING = `CASE WHEN attempt_count > retry_base THEN 'RETRYING' ELSE 'PENDING' END`;

/**
 * When each of n ordered webhooks (their ids the parameters) next has something to claim: the
 * earliest time among the first open deliveries of its issues' lines.
 */
export const lineStartsSql = (n: number) =>
  `WITH o AS (
     SELECT id, webhook_id, issue_id, event_position, recipient_id, ${OPEN_AT} AS at FROM webhook_deliveries
     WHERE webhook_id IN (${Array(n).fill('?').join(', ')}) AND ${OPEN} AND ${ofAnEvent()}
   ), starts AS (
     SELECT webhook_id, issue_id, MIN(event_position) AS first FROM (
       SELECT webhook_id, issue_id, event_position FROM o WHERE recipient_id IS NULL
       UNION ALL
       SELECT o.webhook_id, e.issue_id, e.event_position FROM o JOIN webhook_deliveries e ON e.carried_by = o.id
     ) line WHERE issue_id IS NOT NULL GROUP BY webhook_id, issue_id
   )
   SELECT o.webhook_id, MIN(o.at) AS at FROM o LEFT JOIN starts s ON s.webhook_id = o.webhook_id AND s.issue_id = o.issue_id
   WHERE s.first IS NULL OR s.first = o.event_position OR o.recipient_id IS NOT NULL GROUP BY o.webhook_id`;
