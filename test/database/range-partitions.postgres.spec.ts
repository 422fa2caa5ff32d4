import pg from 'pg';
import { RangePartitions } from '../../src/database/range-partitions.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('RangePartitions (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let parts: RangePartitions;

  beforeEach(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await pool.query(`CREATE TABLE items (pos BIGINT NOT NULL, label TEXT NOT NULL DEFAULT 'x', PRIMARY KEY (pos)) PARTITION BY RANGE (pos)`);
    await pool.query(`CREATE INDEX ix_items_label ON items (label, pos)`);
    parts = new RangePartitions(pool, 'items', 'pos');
  });

  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  const ranges = async () => (await parts.list()).map((p) => [p.from, p.to]);
  const insert = (pos: number) => pool.query(`INSERT INTO items (pos) VALUES ($1)`, [pos]);

  it('adds partitions of the span until one ends past the position, and rows land in them with the parent’s indexes', async () => {
    const added = await parts.extendPast(25, 10);
    expect(added.map((p) => p.name)).toEqual(['items_from_1', 'items_from_11', 'items_from_21']);
    expect(await ranges()).toEqual([[1, 11], [11, 21], [21, 31]]);
    await insert(1);
    await insert(30);
    await expect(insert(31)).rejects.toThrow(/no partition of relation "items" found for row/);
    const { rows } = await pool.query<{ tableoid: string }>(`SELECT tableoid::regclass::text AS tableoid FROM items ORDER BY pos`);
    expect(rows.map((r) => r.tableoid)).toEqual(['items_from_1', 'items_from_21']);
    const indexes = await pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'items_from_21' ORDER BY indexname`);
    expect(indexes.rows).toHaveLength(2);
    // nothing to add when the last already ends past it; a smaller span later keeps the ranges made
    expect(await parts.extendPast(30, 10)).toEqual([]);
    expect((await parts.extendPast(31, 5)).map((p) => [p.from, p.to])).toEqual([[31, 36]]);
  });

  it('two instances extending at once make each range once', async () => {
    const other = new RangePartitions(pool, 'items', 'pos');
    await Promise.all([parts.extendPast(45, 10), other.extendPast(45, 10), parts.extendPast(20, 10)]);
    expect(await ranges()).toEqual([[1, 11], [11, 21], [21, 31], [31, 41], [41, 51]]);
  });

  it('drops a partition (detached concurrently) and covers its range again on demand', async () => {
    await parts.extendPast(25, 10);
    await insert(15);
    await parts.drop('items_from_11');
    expect(await ranges()).toEqual([[1, 11], [21, 31]]);
    expect((await pool.query(`SELECT to_regclass('items_from_11') AS t`)).rows[0].t).toBeNull();
    await expect(insert(15)).rejects.toThrow(/no partition/);
    expect(await parts.cover(15, 10)).toMatchObject({ from: 11, to: 21 });
    expect(await parts.cover(15, 10)).toBeNull();
    await insert(15);
    // below the first partition: the gap is counted back from it; a span wider than the gap is cut to it
    expect(await parts.cover(-3, 10)).toMatchObject({ from: -9, to: 1 });
    await parts.drop('items_from_11');
    expect(await parts.cover(12, 100)).toMatchObject({ from: 11, to: 21 });
    await parts.drop('items_from_nothing');
  });

  it('finishes a detach that was interrupted', async () => {
    await parts.extendPast(15, 10);
    // an interrupted DETACH … CONCURRENTLY leaves the partition "detach pending"; the same state, made by hand:
    const blocker = await pool.connect();
    await blocker.query(`BEGIN; SELECT * FROM items`);
    const detaching = pool.query(`ALTER TABLE items DETACH PARTITION items_from_11 CONCURRENTLY`).catch((error: Error) => error);
    const pid = async () => (await pool.query(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE items DETACH%' AND state = 'active'`)).rows[0]?.pid;
    let waiting: number | undefined;
    while (!(waiting = await pid())) await new Promise((resolve) => setImmediate(resolve));
    // the first phase (marking it pending) has committed once the second waits for the old snapshot
    while (!(await parts.list()).find((p) => p.name === 'items_from_11')?.detachPending) await new Promise((resolve) => setTimeout(resolve, 10));
    await pool.query(`SELECT pg_cancel_backend($1)`, [waiting]);
    expect(await detaching).toBeInstanceOf(Error);
    await blocker.query('COMMIT');
    blocker.release();
    expect((await parts.list()).find((p) => p.name === 'items_from_11')?.detachPending).toBe(true);
    await parts.drop('items_from_11');
    expect(await ranges()).toEqual([[1, 11]]);
  });

  it('attaches a detached partition again, rows and all, when the look at it says to keep it', async () => {
    await parts.extendPast(25, 10);
    await insert(12);
    const looked: string[] = [];
    const keepLabelled = (label: string) => async (client: pg.ClientBase) => {
      // the detached table: no longer part of items, its rows all there
      looked.push(...(await client.query<{ label: string }>(`SELECT label FROM items_from_11`)).rows.map((r) => r.label));
      return looked.includes(label);
    };
    expect(await parts.drop('items_from_11', keepLabelled('x'))).toBe(false);
    expect(await ranges()).toEqual([[1, 11], [11, 21], [21, 31]]);
    expect((await pool.query(`SELECT pos FROM items`)).rows).toEqual([{ pos: '12' }]);
    expect(await parts.drop('items_from_11', keepLabelled('none such'))).toBe(true);
    expect(await ranges()).toEqual([[1, 11], [21, 31]]);
    expect(looked).toEqual(['x', 'x']);
  });
});
