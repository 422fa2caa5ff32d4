import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, pgPool } from '../../src/database/data-source.js';
import { migrations } from '../../src/database/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { POSTGRES_SCHEMA, SQLITE_SCHEMA } from './expected-schema.js';

async function columns(ds: DataSource): Promise<Record<string, Record<string, string>>> {
  const rows: { table_name: string; column_name: string; udt_name: string }[] = await ds.query(
    // partitions are tables too: only the partitioned tables themselves
    `SELECT table_name, column_name, udt_name FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> 'migrations' AND NOT (SELECT relispartition FROM pg_class WHERE oid = ('public.' || quote_ident(table_name))::regclass)`,
  );
  const schema: Record<string, Record<string, string>> = {};
  for (const row of rows) (schema[row.table_name] ??= {})[row.column_name] = row.udt_name;
  return schema;
}

async function publicTables(ds: DataSource): Promise<string[]> {
  const rows: { tablename: string }[] = await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
  return rows.map((r) => r.tablename);
}

it('PostgreSQL and SQLite get the same tables and columns (events.transaction_id and stream_heads only where writers run concurrently)', () => {
  const names = (schema: Record<string, Record<string, string>>) =>
    Object.fromEntries(
      Object.entries(schema)
        .filter(([table]) => table !== 'stream_heads')
        .map(([table, cols]) => [table, Object.keys(cols).filter((c) => c !== 'transaction_id' || table !== 'events').sort()]),
    );
  expect(names(POSTGRES_SCHEMA)).toEqual(names(SQLITE_SCHEMA));
});

describe('migrations on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeEach(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions({ kind: 'postgres', url: db.url, poolSize: 4 }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  });

  afterEach(async () => {
    if (ds.isInitialized) await ds.destroy();
    await db.drop();
  });

  it('creates every table and column, with BIGINT ids, positions and times, JSONB event data and xid8 transaction ids', async () => {
    expect(await columns(ds)).toEqual(POSTGRES_SCHEMA);
    // a sequence, not an identity: identity columns on partitioned tables need PostgreSQL 17
    const [position] = await ds.query(
      `SELECT is_identity, column_default FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'position'`,
    );
    expect(position).toEqual({ is_identity: 'NO', column_default: `nextval('events_position_seq'::regclass)` });
    const defaults: { table_name: string; column_name: string; column_default: string }[] = await ds.query(
      `SELECT table_name, column_name, column_default FROM information_schema.columns c
       WHERE udt_name = 'xid8' AND NOT (SELECT relispartition FROM pg_class WHERE oid = ('public.' || quote_ident(c.table_name))::regclass) ORDER BY table_name`,
    );
    expect(defaults).toEqual([
      { table_name: 'events', column_name: 'transaction_id', column_default: 'pg_current_xact_id()' },
      // the start-up check's position: always written, never defaulted
      { table_name: 'log_checks', column_name: 'transaction_id', column_default: null },
      { table_name: 'subscription_checkpoints', column_name: 'transaction_id', column_default: `'0'::xid8` },
    ]);
    const indexes: { indexname: string; indexdef: string }[] = await ds.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const def = (name: string) => indexes.find((i) => i.indexname === name)?.indexdef;
    expect(def('ix_events_transaction_position')).toMatch(/ON ONLY public\.events USING btree \(transaction_id, "?position"?\)$/);
    expect(def('ix_events_stream_version')).toMatch(/ON ONLY public\.events USING btree \(stream_id, version\)$/);
    expect(def('uq_events_event_id')).toMatch(/UNIQUE INDEX uq_events_event_id ON ONLY public\.events USING btree \(event_id, "?position"?\)$/);
    expect(def('ix_deliveries_lease_expiry')).toMatch(/\(lease_until\) WHERE \(status = 'DELIVERING'::text\)$/);
    // a webhook's waiting deliveries by due time; its open ones, live before a replay's (the dispatcher's look and claim)
    expect(def('ix_deliveries_waiting')).toMatch(/\(webhook_id, next_attempt_at\) WHERE \(status = ANY \(ARRAY\['PENDING'::text, 'RETRYING'::text, 'HELD'::text\]\)\)$/);
    expect(def('ix_deliveries_lane')).toMatch(/\(webhook_id, \(\(replay_id IS NOT NULL\)\), event_position\) WHERE/);
    expect(def('ix_deliveries_replay')).toMatch(/\(replay_id, event_position, status\) WHERE \(replay_id IS NOT NULL\)$/);
    expect(def('ix_deliveries_issue')).toMatch(/\(issue_id, event_position\)$/);
    expect(indexes.map((i) => i.indexname)).toEqual(
      expect.arrayContaining(['events_pkey', 'uq_delivery_event_webhook_recipient', 'ix_deliveries_due', 'ix_rm_users_email', 'ix_rm_projects_key']),
    );
    const applied: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => new m().name));
  });

  it('undoes every migration: only TypeORM\'s own table is left, and they apply again', async () => {
    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await publicTables(ds)).toEqual(['migrations']);
    expect(await ds.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'migrations'`)).toEqual([]);
    expect(await ds.query(`SELECT name FROM migrations`)).toEqual([]);
    await ds.runMigrations({ transaction: 'each' });
    expect(await columns(ds)).toEqual(POSTGRES_SCHEMA);
  });

  it('keeps epoch milliseconds past 32 bits; pg hands BIGINT back as text unless a type parser says otherwise', async () => {
    const now = Date.now(); // > 2^31: an INTEGER (int4) column would refuse it
    await ds.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, activity_type, activity, status, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      ['d-1', 1, 1, 1, 'bb.issue.create', '{}', 'PENDING', now, now, now],
    );
    const [row] = await ds.query(`SELECT next_attempt_at, attempt_count FROM webhook_deliveries`);
    expect(row).toEqual({ next_attempt_at: String(now), attempt_count: 0 });
    // the pool behind TypeORM, for code that runs its own transactions
    const { rows } = await pgPool(ds).query<{ data: unknown }>(
      `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
       VALUES ('e-1', 'issue-1', 1, 't', 1, $1, '{}', '2026-03-01T10:00:00.000Z') RETURNING data`,
      [JSON.stringify({ name: 'x', nested: [1, 2] })],
    );
    expect(rows[0].data).toEqual({ name: 'x', nested: [1, 2] }); // JSONB comes back parsed
  });

  describe('the read rule: below the oldest running transaction, in (transaction_id, position) order', () => {
    let clients: pg.Client[] = [];
    const client = async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      clients.push(c);
      return c;
    };
    afterEach(async () => {
      await Promise.all(clients.map((c) => c.end()));
      clients = [];
    });

    const insert = (c: pg.Client, eventId: string) =>
      c.query(
        `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
         VALUES ($1, $1, 1, 'test', 1, '{}', '{}', '2026-03-01T10:00:00.000Z')`,
        [eventId],
      );
    type Checkpoint = { transactionId: string; position: string };
    const START: Checkpoint = { transactionId: '0', position: '0' };
    /** What a subscription reading after its checkpoint gets under the rule. */
    const readAfter = async (reader: pg.Client, after: Checkpoint) =>
      (
        await reader.query<{ event_id: string }>(
          `SELECT event_id FROM events
            WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
              AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY transaction_id, position`,
          [after.transactionId, after.position],
        )
      ).rows.map((r) => r.event_id);
    /** The naive rule the transaction ids replace: after a position, in position order. */
    const naiveAfter = async (reader: pg.Client, position: number) =>
      (await reader.query<{ event_id: string }>(`SELECT event_id FROM events WHERE position > $1 ORDER BY position`, [position])).rows.map((r) => r.event_id);
    /** Transactions of other suites on this server (xmin is server-wide) may hold the horizon back a moment. */
    const eventually = async (read: () => Promise<string[]>, expected: string[]) => {
      const deadline = Date.now() + 10_000;
      let seen = await read();
      while (JSON.stringify(seen) !== JSON.stringify(expected) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await read();
      }
      expect(seen).toEqual(expected);
    };

    it('T2 inserts, T1 (the older transaction) inserts, T2 commits: T2\'s event stays hidden until T1 ends, then both come in transaction order', async () => {
      const [t1, t2, reader] = [await client(), await client(), await client()];
      await t1.query('BEGIN');
      await t1.query('SELECT pg_current_xact_id()'); // T1 has its transaction id first (as when it wrote something else before)
      await t2.query('BEGIN');
      await insert(t2, 'from-t2'); // takes the lower position
      await insert(t1, 'from-t1');
      await t2.query('COMMIT'); // T1 still open

      // committed, yet not readable: T1 may still commit an event that sorts before it
      expect(await readAfter(reader, START)).toEqual([]);
      // a reader by position alone would take T2's event now and sort T1's after it...
      expect(await naiveAfter(reader, 0)).toEqual(['from-t2']);

      await t1.query('COMMIT');
      // ...whereas the log's order is T1's transaction first, though its position is higher
      await eventually(() => readAfter(reader, START), ['from-t1', 'from-t2']);
      const rows = (await reader.query(`SELECT event_id, position FROM events ORDER BY transaction_id, position`)).rows;
      expect(rows.map((r) => r.event_id)).toEqual(['from-t1', 'from-t2']);
      expect(Number(rows[0].position)).toBeGreaterThan(Number(rows[1].position));
    });

    it('a position committed before a lower one is not read past: a position-only reader would skip the lower one for good', async () => {
      const [t1, t2, reader] = [await client(), await client(), await client()];
      await t1.query('BEGIN');
      await insert(t1, 'first'); // position p
      await t2.query('BEGIN');
      await insert(t2, 'second'); // position p + 1
      await t2.query('COMMIT'); // T1 still open

      const naive = await naiveAfter(reader, 0);
      expect(naive).toEqual(['second']);
      const naiveCheckpoint = Number((await reader.query(`SELECT max(position) AS p FROM events`)).rows[0].p);
      expect(await readAfter(reader, START)).toEqual([]);

      await t1.query('COMMIT');
      expect(await naiveAfter(reader, naiveCheckpoint)).toEqual([]); // 'first' is lost to the position-only reader
      await eventually(() => readAfter(reader, START), ['first', 'second']);
    });

    it('resumes after a checkpoint (transaction_id, position) without repeating or skipping', async () => {
      const [writer, reader] = [await client(), await client()];
      for (const id of ['a', 'b', 'c']) await insert(writer, id);
      await eventually(() => readAfter(reader, START), ['a', 'b', 'c']);
      const [b] = (await reader.query(`SELECT transaction_id::text AS "transactionId", position::text AS position FROM events WHERE event_id = 'b'`)).rows;
      await eventually(() => readAfter(reader, b), ['c']);
    });
  });
});
