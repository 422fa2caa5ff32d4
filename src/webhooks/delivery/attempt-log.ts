import type { SqlWrite } from '../../event-store/event.js';
import type { WriteTx } from '../../event-store/event-store.js';
import { maskUrl } from '../config/url-mask.js';
import type { WebhookType } from '../providers/registry.js';
import type { Attempt } from './attempt.js';

/* What the recorder writes besides the queue: the attempt rows and the webhooks' runs of failures. */

const STANDARD_HEADERS = new Set(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'traceparent', 'tracestate']);
/** Rows per INSERT (well below both engines' limits on parameters). */
const ROWS = 500;

/**
 * The attempts as recorded: the request with secrets masked, the response or the error, and the verdict;
 * with their delivery's event position (on PostgreSQL, the partition both rows are in, and leave with).
 */
export function attemptRows(attempts: { deliveryId: string; eventPosition: number; number: number; type: WebhookType; attempt: Attempt }[]): SqlWrite[] {
  const writes: SqlWrite[] = [];
  for (let i = 0; i < attempts.length; i += ROWS) {
    const part = attempts.slice(i, i + ROWS);
    writes.push({
      sql: `INSERT INTO webhook_delivery_attempts (delivery_id, event_position, number, started_at, duration_ms, request, response, error, verdict) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      params: part.flatMap(({ deliveryId, eventPosition, number, type, attempt: { request, response, verdict, startedAt, durationMs } }) => [
        deliveryId,
        eventPosition,
        number,
        startedAt.getTime(),
        Math.round(durationMs),
        JSON.stringify({ url: maskUrl(request.url, type), headers: maskHeaders(request.headers), body: request.body }),
        response?.kind === 'response' ? JSON.stringify({ status: response.status, headers: response.headers, body: response.body }) : null,
        response?.kind === 'error' ? `${response.error}: ${response.detail}` : null,
        // nothing sent (unsent) shows as failed: that is what it is to the delivery
        JSON.stringify(verdict.kind === 'retry' ? { ...verdict, notBefore: verdict.notBefore?.toISOString() } : verdict.kind === 'unsent' ? { kind: 'failed', reason: verdict.reason } : verdict),
      ]),
    });
  }
  return writes;
}

/** Recorded requests keep the standard headers; operator headers may hold credentials. */
function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, STANDARD_HEADERS.has(name.toLowerCase()) ? value : '***']));
}

/**
 * Locks the webhooks' rows of failure runs (creating missing ones) and reads them, in the
 * recording transaction: the recorders of several instances take turns on one webhook.
 */
export async function lockRuns(tx: WriteTx, webhookIds: number[], now: number): Promise<Map<number, number>> {
  if (webhookIds.length === 0) return new Map();
  const sorted = [...webhookIds].sort((a, b) => a - b); // always in one order: no deadlock between two recorders
  const rows = await tx.all<{ webhook_id: number; consecutive: number }>(
    `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES ${sorted.map(() => '(?, 0, NULL, ?)').join(', ')}
     ON CONFLICT (webhook_id) DO UPDATE SET consecutive = webhook_failures.consecutive RETURNING webhook_id, consecutive`,
    sorted.flatMap((id) => [id, now]),
  );
  return new Map(rows.map((row) => [Number(row.webhook_id), Number(row.consecutive)]));
}

/** The webhooks' new runs, with their last error when there is a new one. */
export function runRows(runs: { webhookId: number; consecutive: number; lastError: string | null }[], now: number): SqlWrite[] {
  if (runs.length === 0) return [];
  return [
    {
      sql: `INSERT INTO webhook_failures (webhook_id, consecutive, last_error, updated_at) VALUES ${runs.map(() => '(?, ?, ?, ?)').join(', ')}
            ON CONFLICT (webhook_id) DO UPDATE SET consecutive = excluded.consecutive, last_error = COALESCE(excluded.last_error, webhook_failures.last_error), updated_at = excluded.updated_at`,
      params: runs.flatMap((run) => [run.webhookId, run.consecutive, run.lastError, now]),
    },
  ];
}
