import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../shared/errors.js';
import type { EventStore } from './event-store.js';

/** A rebuild of the read models as GET /api/admin/projections/rebuild shows it. */
export interface RebuildStatus {
  id: string;
  /** 1 for the database's first rebuild, 2 for the next… */
  number: number;
  /** `interrupted`: its process stopped (or died: no word from it for STALE_MS) before it finished; the read models are the old ones. */
  state: 'running' | 'done' | 'failed' | 'interrupted';
  phase: string;
  /** How far the phase got, of about how much (events, or streams while writing the read models). */
  done: number;
  total: number;
  requestedBy: string;
  instance: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

/** Another rebuild runs (on this instance, another one, or the command line): one at a time. */
export class RebuildRunning extends DomainError {
  constructor(running: RebuildStatus | undefined) {
    super(
      'conflict',
      running
        ? `a rebuild of the read models is running (${running.id}, started ${running.startedAt} by ${running.requestedBy}: ${running.phase}, ${running.done} of ${running.total}); follow it at GET /api/admin/projections/rebuild`
        : 'a rebuild of the read models is running; follow it at GET /api/admin/projections/rebuild',
    );
  }
}

interface Row {
  id: string;
  number: number | string;
  state: RebuildStatus['state'];
  phase: string;
  done: number | string;
  total: number | string;
  requested_by: string;
  instance: string;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  duration_ms: number | string | null;
  error: string | null;
}

/** A running rebuild says how far it got at least this often; a `running` row older than STALE_MS is a rebuild that died. */
const PROGRESS_MS = 1000;
const STALE_MS = 30_000;
/** Rebuilds remembered. */
const KEPT = 20;

const NOT_DURABLE = { durable: false };

const toStatus = (row: Row, now: Date): RebuildStatus => ({
  id: row.id,
  number: Number(row.number),
  state: row.state === 'running' && Date.parse(row.updated_at) < now.getTime() - STALE_MS ? 'interrupted' : row.state,
  phase: row.phase,
  done: Number(row.done),
  total: Number(row.total),
  requestedBy: row.requested_by,
  instance: row.instance,
  startedAt: row.started_at,
  updatedAt: row.updated_at,
  finishedAt: row.finished_at,
  durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
  error: row.error,
});

/**
 * The row of one rebuild in read_model_rebuilds: its claim (at most one row is `running`,
 * so two rebuilds never share the shadow tables, wherever they run), its progress (written
 * at most once a second: a heartbeat too) and its end.
 */
export class RebuildRecord {
  readonly id = randomUUID();
  private writtenAt = 0;

  private constructor(private readonly store: EventStore) {}

  /** The latest rebuild, if any ran. */
  static async latest(store: EventStore, now: Date): Promise<RebuildStatus | undefined> {
    const row = await store.queryOne<Row>(`SELECT * FROM read_model_rebuilds ORDER BY number DESC LIMIT 1`);
    return row && toStatus(row, now);
  }

  /** Claims the rebuild; throws RebuildRunning while another one runs. A `running` row with no word for STALE_MS is taken as interrupted. */
  static async claim(store: EventStore, requestedBy: string, total: number): Promise<RebuildRecord> {
    const record = new RebuildRecord(store);
    const claim = store.transact(async (tx) => {
      const now = tx.now.toISOString();
      await tx.exec([
        {
          sql: `UPDATE read_model_rebuilds SET state = 'interrupted', finished_at = updated_at, error = 'no word from it for ${STALE_MS / 1000} s' WHERE state = 'running' AND updated_at < ?`,
          params: [new Date(tx.now.getTime() - STALE_MS).toISOString()],
        },
      ]);
      if (await tx.get(`SELECT 1 FROM read_model_rebuilds WHERE state = 'running'`)) return false;
      await tx.exec([
        {
          sql: `INSERT INTO read_model_rebuilds (id, number, state, phase, done, total, requested_by, instance, started_at, updated_at)
                SELECT ?, COALESCE(MAX(number), 0) + 1, 'running', 'starting', 0, ?, ?, ?, ?, ? FROM read_model_rebuilds`,
          params: [record.id, total, requestedBy, `${hostname()}:${process.pid}`, now, now],
        },
        { sql: `DELETE FROM read_model_rebuilds WHERE id NOT IN (SELECT id FROM read_model_rebuilds ORDER BY number DESC LIMIT ${KEPT})`, params: [] },
      ]);
      return true;
    }, NOT_DURABLE);
    // PostgreSQL: a claim committed meanwhile by another instance shows as the unique index's conflict
    const claimed = await claim.catch((error: unknown) => (error instanceof DomainError && error.kind === 'conflict' ? false : Promise.reject(error)));
    if (claimed) return record;
    const running = await store.queryOne<Row>(`SELECT * FROM read_model_rebuilds WHERE state = 'running'`);
    throw new RebuildRunning(running && toStatus(running, new Date(Date.parse(running.updated_at))));
  }

  /** Writes how far it got (at most once a second, unless `now`). */
  async progress(phase: string, done: number, total: number, now = false): Promise<void> {
    if (!now && performance.now() - this.writtenAt < PROGRESS_MS) return;
    this.writtenAt = performance.now();
    await this.store.transact(
      (tx) =>
        tx.exec([{ sql: `UPDATE read_model_rebuilds SET phase = ?, done = ?, total = ?, updated_at = ? WHERE id = ?`, params: [phase, done, total, tx.now.toISOString(), this.id] }]),
      NOT_DURABLE,
    );
  }

  /** Done (with the events replayed), or failed or interrupted (saying why). */
  async end(outcome: { state: 'done'; events: number } | { state: 'failed' | 'interrupted'; error: string }, durationMs: number): Promise<void> {
    const [phase, done, error] = outcome.state === 'done' ? ['done', outcome.events, null] : [`stopped: ${outcome.state}`, null, outcome.error];
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `UPDATE read_model_rebuilds SET state = ?, phase = ?, done = COALESCE(?, done), total = COALESCE(?, total), finished_at = ?, updated_at = ?, duration_ms = ?, error = ? WHERE id = ?`,
            params: [outcome.state, phase, done, done, tx.now.toISOString(), tx.now.toISOString(), durationMs, error, this.id],
          },
        ]),
      NOT_DURABLE,
    );
  }
}
