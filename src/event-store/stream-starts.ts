import type { Queryable } from './postgres-sql.js';

/**
 * Where streams begin in the log (their heads' first_position), remembered in this process: a stream read
 * that names it as a parameter is pruned when it is planned (an unnamed statement is planned with its
 * values), so its planning does not grow with the log's partitions (issue 26). A head's first position is set
 * when the head is made and never changed; a head made by a transaction that rolled back was at most where a
 * later one of the same stream starts (both are the log's committed head + 1 when made), so any head's
 * first position, once read, is a safe lower bound for good.
 *
 * Bounded: the least recently used stream is forgotten past `capacity` (it is read from its head again).
 */
export class StreamStarts {
  private readonly known = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** The stream's first position, from memory or its head; undefined for a stream without one (none yet, or written around the store). */
  async of(db: Queryable, streamId: string): Promise<number | undefined> {
    const known = this.known.get(streamId);
    if (known !== undefined) {
      // most recently used last: Map keeps insertion order
      this.known.delete(streamId);
      this.known.set(streamId, known);
      return known;
    }
    const { rows } = await db.query<{ first_position: number | null }>(`SELECT first_position FROM stream_heads WHERE stream_id = $1`, [streamId]);
    const first = rows[0]?.first_position ?? undefined;
    if (first !== undefined) this.remember(streamId, first);
    return first;
  }

  /** Each stream's first position (0 where none is known), those not remembered read from their heads in one statement. */
  async ofMany(db: Queryable, streamIds: readonly string[]): Promise<number[]> {
    const missing = [...new Set(streamIds.filter((id) => !this.known.has(id)))];
    if (missing.length > 0) {
      const { rows } = await db.query<{ stream_id: string; first_position: number | null }>(
        `SELECT stream_id, first_position FROM stream_heads WHERE stream_id = ANY($1) AND first_position IS NOT NULL`,
        [missing],
      );
      for (const row of rows) this.remember(row.stream_id, Number(row.first_position));
    }
    return streamIds.map((id) => this.known.get(id) ?? 0);
  }

  private remember(streamId: string, first: number): void {
    this.known.set(streamId, first);
    if (this.known.size > this.capacity) this.known.delete(this.known.keys().next().value!);
  }
}
