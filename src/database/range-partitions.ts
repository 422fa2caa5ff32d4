import type pg from 'pg';

/**
 * One partition of a table partitioned `BY RANGE` on one BIGINT column: it holds `from`
 * (inclusive) to `to` (exclusive); null stands for MINVALUE / MAXVALUE.
 */
export interface RangePartition {
  name: string;
  from: number | null;
  to: number | null;
  /** A `DETACH … CONCURRENTLY` was interrupted (a crash, a cancel): it is finished before anything else. */
  detachPending: boolean;
}

/** What the partitions are managed through: the pool (each DDL step takes a connection of its own). */
export interface PartitionPool {
  connect(): Promise<pg.PoolClient>;
}

/** How long a partition's DDL waits for its lock before giving up (and trying at the next turn). */
const LOCK_TIMEOUT = '2s';

/**
 * PostgreSQL's range partitions of one table (issue 26; docs/scale.md, section 3):
 * listing them, adding the next ones ahead of what will be inserted, filling a gap
 * (a partition dropped, then needed again), and detaching and dropping one.
 *
 * New partitions are created as tables of their own and then attached: ATTACH takes
 * only a SHARE UPDATE EXCLUSIVE lock on the parent (inserts and reads go on), where
 * `CREATE TABLE … PARTITION OF` would take an ACCESS EXCLUSIVE one and queue every
 * statement behind it. A CHECK constraint matching the bounds, added while the table
 * is empty, spares ATTACH its scan. Instances sharing the database take turns through
 * an advisory lock and read the partitions again once they hold it.
 *
 * A range is named after its start (`events_from_100000001`): names never collide,
 * and a partition's bounds do not depend on the span configured when it was made.
 */
export class RangePartitions {
  constructor(
    private readonly pool: PartitionPool,
    readonly table: string,
    readonly column: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table) || !/^[a-z_][a-z0-9_]*$/.test(column)) throw new Error(`not a plain identifier: ${table}.${column}`);
  }

  /** The partitions, in the order of their ranges (MINVALUE first). */
  async list(db?: pg.ClientBase): Promise<RangePartition[]> {
    return this.with(db, async (client) => {
      const { rows } = await client.query<{ name: string; bound: string; pending: boolean }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, i.inhdetachpending AS pending
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass`,
        [this.table],
      );
      return rows.map((row) => ({ ...parseBound(row.name, row.bound), detachPending: row.pending })).sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity));
    });
  }

  /**
   * Adds partitions of `span` after the last one until the last ends past `upTo`
   * (exclusive end > upTo). Returns the partitions added. A table with no partition
   * gets its first from `start`.
   */
  async extendPast(upTo: number, span: number, start = 1): Promise<RangePartition[]> {
    if (!(span >= 1) || !Number.isSafeInteger(span)) throw new Error(`a partition's span must be a positive integer, not ${span}`);
    return this.locked(async (client) => {
      const added: RangePartition[] = [];
      const partitions = await this.list(client);
      const last = partitions[partitions.length - 1];
      if (last && last.to === null) return added;
      let from = last ? last.to! : start;
      while (from <= upTo) {
        added.push(await this.create(client, from, from + span));
        from += span;
      }
      return added;
    });
  }

  /**
   * Makes sure a partition holds `position`: when none does (its range was dropped), one
   * is made for the gap around it, at most `span` wide and aligned to the neighbours.
   * Returns it, or null when one already held the position.
   */
  async cover(position: number, span: number): Promise<RangePartition | null> {
    return this.locked(async (client) => {
      const partitions = await this.list(client);
      if (partitions.some((p) => holds(p, position))) return null;
      const before = partitions.filter((p) => p.to !== null && p.to <= position).pop();
      const after = partitions.find((p) => p.from !== null && p.from > position);
      const gapFrom = before?.to ?? null;
      const gapTo = after?.from ?? null;
      // within the gap, the span-wide slot of the position, counted from the gap's start (or from 1)
      const origin = gapFrom ?? (gapTo !== null ? gapTo - span * Math.ceil((gapTo - position) / span) : 1);
      const from = origin + Math.floor((position - origin) / span) * span;
      return this.create(client, Math.max(from, gapFrom ?? -Infinity), Math.min(from + span, gapTo ?? Infinity));
    });
  }

  /**
   * Detaches a partition without blocking the table (`CONCURRENTLY`: it waits for the
   * statements that use it) and drops it. An interrupted detach is finished first.
   * `keep`, if given, looks at the detached table (nothing can write to it any more, and
   * every write made before is committed): when it says so, the partition is attached again
   * instead (with a scan of it) and false returned. Resolves true once dropped.
   */
  async drop(name: string, keep?: (client: pg.ClientBase) => Promise<boolean>): Promise<boolean> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // CONCURRENTLY cannot run inside a transaction: a session lock keeps instances from racing
      await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [this.lockKey()]);
      try {
        const partition = (await this.list(client)).find((p) => p.name === name);
        if (!partition) return false;
        await client.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
        const target = `${quote(this.table)} DETACH PARTITION ${quote(name)}`;
        await client.query(partition.detachPending ? `ALTER TABLE ${target} FINALIZE` : `ALTER TABLE ${target} CONCURRENTLY`);
        if (keep && (await keep(client))) {
          const bound = (value: number | null, none: string) => (value === null ? none : String(value));
          await client.query(`ALTER TABLE ${quote(this.table)} ATTACH PARTITION ${quote(name)} FOR VALUES FROM (${bound(partition.from, 'MINVALUE')}) TO (${bound(partition.to, 'MAXVALUE')})`);
          return false;
        }
        await client.query(`DROP TABLE ${quote(name)}`);
        return true;
      } finally {
        await client.query('RESET lock_timeout').catch((error: Error) => (broken = error));
        await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [this.lockKey()]).catch((error: Error) => (broken = error));
      }
    } catch (error) {
      broken ??= error as Error;
      throw new Error(`could not drop partition ${name} of ${this.table}: ${(error as Error).message}`, { cause: error });
    } finally {
      client.release(broken);
    }
  }

  /** A new empty table with the parent's columns and a CHECK of its bounds, then attached to it. */
  private async create(client: pg.ClientBase, from: number, to: number): Promise<RangePartition> {
    const name = `${this.table}_from_${Number.isFinite(from) ? String(from).replace('-', 'm') : 'min'}`;
    const low = Number.isFinite(from) ? String(from) : 'MINVALUE';
    const high = Number.isFinite(to) ? String(to) : 'MAXVALUE';
    const bounds = [Number.isFinite(from) ? `${quote(this.column)} >= ${low}` : null, Number.isFinite(to) ? `${quote(this.column)} < ${high}` : null].filter(Boolean).join(' AND ');
    await client.query(`CREATE TABLE ${quote(name)} (LIKE ${quote(this.table)} INCLUDING DEFAULTS INCLUDING GENERATED)`);
    await client.query(`ALTER TABLE ${quote(name)} ADD CONSTRAINT ${quote(`${name}_bounds`)} CHECK (${quote(this.column)} IS NOT NULL AND ${bounds})`);
    await client.query(`ALTER TABLE ${quote(this.table)} ATTACH PARTITION ${quote(name)} FOR VALUES FROM (${low}) TO (${high})`);
    // the partition's own bound does the CHECK's work from now on
    await client.query(`ALTER TABLE ${quote(name)} DROP CONSTRAINT ${quote(`${name}_bounds`)}`);
    return { name, from: Number.isFinite(from) ? from : null, to: Number.isFinite(to) ? to : null, detachPending: false };
  }

  /** One transaction holding the table's partition lock; DDL waits at most LOCK_TIMEOUT for the table. */
  private async locked<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [this.lockKey()]);
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw new Error(`could not add partitions to ${this.table}: ${(error as Error).message}`, { cause: error });
    } finally {
      client.release(broken);
    }
  }

  private async with<T>(db: pg.ClientBase | undefined, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    if (db) return fn(db);
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  private lockKey(): string {
    return `herald-partitions:${this.table}`;
  }
}

/** The partition's range holds the position. */
export function holds(p: RangePartition, position: number): boolean {
  return (p.from === null || p.from <= position) && (p.to === null || position < p.to);
}

/** `FOR VALUES FROM ('1') TO ('101')`, MINVALUE/MAXVALUE unquoted; a DEFAULT partition is refused. */
function parseBound(name: string, bound: string): Omit<RangePartition, 'detachPending'> {
  const match = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/.exec(bound);
  if (!match) throw new Error(`partition ${name} is not a range of one column (${bound}): not one these tables can have`);
  const value = (text: string) => (/^(MINVALUE|MAXVALUE)$/.test(text) ? null : Number(text.replace(/^'|'$/g, '')));
  return { name, from: value(match[1]), to: value(match[2]) };
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
