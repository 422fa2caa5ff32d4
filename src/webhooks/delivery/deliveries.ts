import { DELIVERY_STATUSES, type AttemptView, type DeliveryStatus, type DeliveryView } from '../../contract/deliveries.js';

/** The delivery queue's shapes (operational state, derived from the log by the webhook subscription). */
/** The statuses are the API's (contract/deliveries.ts); COALESCED: carried by another delivery's message (see coalesce/). */
export { DELIVERY_STATUSES, type DeliveryStatus };

/**
 * A test message has no event: it takes a position of its own below 1 (−1, −2, …, from the
 * `test_messages` sequence), never a NULL (on PostgreSQL the position is part of the primary
 * key: the partition key). These say which rows are test messages, in SQL (`x`: an alias and
 * its dot) and on a row read.
 */
export const testMessage = (x = '') => `${x}event_position < 1`;
// the unary plus keeps SQLite from taking this range (every event's position passes it) for an index's: it then
// chose ix_deliveries_open and sorted all of a webhook's open deliveries at each claim (bench (h): 1,000,000 of them)
export const ofAnEvent = (x = '') => `+${x}event_position >= 1`;
export const isTestMessage = (row: Pick<DeliveryRow, 'event_position'>): boolean => Number(row.event_position) < 1;

export interface DeliveryRow {
  id: string;
  webhook_id: number;
  project_id: number;
  /** The event's position; a test message's is below 1 (see testMessage). */
  event_position: number;
  issue_id: number | null;
  activity_type: string;
  /**
   * The activity it sends, JSON (a message coalescing several: their digest; `{"unmapped": reason}`: none could be
   * built). '' for a replay's delivery: built from its event, at event_position, when it is sent (replay/replayed-activity.ts).
   */
  activity: string;
  status: DeliveryStatus;
  attempt_count: number;
  retry_base: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  /** The replay that (re)queued it, if any. */
  replay_id?: string | null;
  /** COALESCED: the delivery whose message carried it. */
  carried_by?: string | null;
  /** The W3C trace context of its `create webhook` span, when it was scheduled inside a trace: its attempts' parent. */
  traceparent?: string | null;
  tracestate?: string | null;
  /** A direct message's person (the activity names them); null: the webhook's channel message. */
  recipient_id?: number | string | null;
  /** Claimed with its webhook's pace rows: until when the receiver is blocked (see SharedPace); null when it never was. */
  paced_until?: number | string | null;
}

export interface AttemptRow {
  delivery_id: string;
  /** Its delivery's (the partition key on PostgreSQL). */
  event_position: number;
  number: number;
  started_at: number;
  duration_ms: number;
  request: string;
  response: string | null;
  error: string | null;
  verdict: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDeliveryView(row: DeliveryRow): DeliveryView {
  const waiting = row.status === 'RETRYING' || row.status === 'HELD' || row.status === 'PENDING';
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventPosition: isTestMessage(row) ? null : row.event_position,
    activityType: row.activity_type,
    status: row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: waiting ? iso(row.next_attempt_at) : null,
    lastError: row.last_error,
    title: titleOf(row.activity),
    issueId: row.issue_id === null ? null : Number(row.issue_id),
    carriedBy: row.carried_by ?? null,
    recipientId: row.recipient_id === null || row.recipient_id === undefined ? null : Number(row.recipient_id),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

/** The message's title (a digest's summary for a coalesced message); null when it could not be built. */
function titleOf(activity: string): string | null {
  try {
    const parsed = JSON.parse(activity) as { title?: unknown };
    return typeof parsed.title === 'string' ? parsed.title : null;
  } catch {
    return null;
  }
}

export function toAttemptView(row: AttemptRow): AttemptView {
  const verdict = JSON.parse(row.verdict) as { kind: string; reason?: string; note?: string; notBefore?: string };
  return {
    number: row.number,
    startedAt: iso(row.started_at)!,
    durationMs: row.duration_ms,
    request: JSON.parse(row.request) as { url: string; headers: Record<string, string>; body: string },
    ...(row.response ? { response: JSON.parse(row.response) as { status: number; headers: Record<string, string>; body: string } } : {}),
    ...(row.error ? { error: row.error } : {}),
    verdict: verdict.kind,
    ...(verdict.reason || verdict.note ? { reason: verdict.reason ?? verdict.note } : {}),
  };
}
