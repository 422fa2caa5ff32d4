import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { DirectMessages1765200000000 } from '../../src/database/migrations/1765200000000-direct-messages.js';
import { firstRanges } from '../../src/database/migrations/1765410000000-partitioned-deliveries.js';
import { migrations } from '../../src/database/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { tempDir } from '../support/test-app.js';

/** A database from before issue 26: partitioned neither its log nor its deliveries (the migrations after this one do). */
const before = migrations.slice(0, migrations.indexOf(DirectMessages1765200000000) + 1);

it('the first ranges, as the log’s: up to the head (the rows there, and the test messages below 1), then one of the span', () => {
  expect(firstRanges(0, 20)).toEqual({ firstEnd: 1, secondEnd: 21 });
  expect(firstRanges(5, 20)).toEqual({ firstEnd: 6, secondEnd: 26 });
  expect(firstRanges(45, 20)).toEqual({ firstEnd: 46, secondEnd: 66 });
});

describe.each(['sqlite', 'postgres'] as const)('the partitioned deliveries migration on a database in use (%s)', (engine) => {
  let dir: string;
  let db: TestDatabase | undefined;
  let config: DatabaseConfig;
  let ds: DataSource;

  const open = async (list: typeof migrations) => {
    ds = new DataSource({ ...dataSourceOptions(config), migrations: list });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  };
  const p = (n: number) => (engine === 'postgres' ? `$${n}` : '?');
  const values = (n: number) => Array.from({ length: n }, (_, i) => p(i + 1)).join(', ');

  beforeEach(async () => {
    dir = tempDir('herald-partitioned-');
    if (engine === 'postgres') db = await createTestDatabase();
    config = db ? { kind: 'postgres', url: db.url, poolSize: 2, partitionSpan: 20 } : { kind: 'sqlite', path: join(dir, 'herald.sqlite') };
    await open(before);
    // a log of 45 events, three deliveries of events, two test messages (NULL positions then), their attempts, and an attempt whose delivery is gone
    for (let i = 1; i <= 45; i++) {
      await ds.query(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (${values(8)})`, [
        `e-${i}`, 'issue-1', i, 'issue.created', 1, '{}', '{}', '2026-03-01T10:00:00.000Z',
      ]);
    }
    const delivery = (id: string, position: number | null, createdAt: number) =>
      ds.query(
        `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, activity_type, activity, status, next_attempt_at, created_at, updated_at) VALUES (${values(10)})`,
        [id, 7, 1, position, 'bb.issue.create', '{}', 'DELIVERED', createdAt, createdAt, createdAt],
      );
    const attempt = (deliveryId: string, number: number) =>
      ds.query(`INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, duration_ms, request, verdict) VALUES (${values(6)})`, [
        deliveryId, number, 1000, 5, '{"url":"https://x.example/h"}', '{"kind":"delivered"}',
      ]);
    for (const [id, position] of [['d-5', 5], ['d-25', 25], ['d-45', 45]] as const) await delivery(id, position, 1000);
    await delivery('test-new', null, 2000);
    await delivery('test-old', null, 1500);
    for (const [id, number] of [['d-5', 1], ['d-25', 1], ['d-25', 2], ['d-45', 1], ['test-old', 1], ['test-new', 1], ['gone', 1]] as const) await attempt(id, number);
    await ds.destroy();
  });

  afterEach(async () => {
    if (ds.isInitialized) await ds.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every row: test messages numbered below 1 by age, the sequence past them, attempts with their delivery’s position', async () => {
    await open(migrations);
    const deliveries: { id: string; event_position: number | string }[] = await ds.query(`SELECT id, event_position FROM webhook_deliveries ORDER BY id`);
    expect(deliveries.map((d) => [d.id, Number(d.event_position)])).toEqual([['d-25', 25], ['d-45', 45], ['d-5', 5], ['test-new', -2], ['test-old', -1]]);
    const [sequence] = await ds.query(`SELECT value FROM id_sequences WHERE name = 'test_messages'`);
    expect(Number(sequence.value)).toBe(2);
    const attempts: { delivery_id: string; number: number; event_position: number | string }[] = await ds.query(
      `SELECT delivery_id, number, event_position FROM webhook_delivery_attempts ORDER BY delivery_id, number`,
    );
    expect(attempts.map((a) => [a.delivery_id, Number(a.number), Number(a.event_position)])).toEqual([
      ['d-25', 1, 25], ['d-25', 2, 25], ['d-45', 1, 45], ['d-5', 1, 5], ['gone', 1, 0], ['test-new', 1, -2], ['test-old', 1, -1],
    ]);
    // the exactly-once key holds as before: a second delivery of event 25 to webhook 7 is refused
    await expect(
      ds.query(
        `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, activity_type, activity, status, next_attempt_at, created_at, updated_at) VALUES (${values(10)})`,
        ['other-id', 7, 1, 25, 'bb.issue.create', '{}', 'PENDING', 1, 1, 1],
      ),
    ).rejects.toThrow(/unique|duplicate/i);
  });

  if (engine === 'postgres') {
    it('partitions both tables with the log’s ranges: the old tables attached as the first (test messages and the rows there), one of the span past the head', async () => {
      await open(migrations);
      const partitions = async (table: string) =>
        (
          (await ds.query(
            `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
            [table],
          )) as { name: string; bound: string }[]
        ).map((r) => `${r.name} ${r.bound}`);
      expect(await partitions('webhook_deliveries')).toEqual([
        `webhook_deliveries_from_46 FOR VALUES FROM ('46') TO ('66')`,
        `webhook_deliveries_from_min FOR VALUES FROM (MINVALUE) TO ('46')`,
      ]);
      expect((await partitions('events')).map((p) => p.replace('events', 'webhook_deliveries'))).toEqual(await partitions('webhook_deliveries'));
      expect((await partitions('webhook_delivery_attempts')).map((p) => p.replace('webhook_delivery_attempts', 'webhook_deliveries'))).toEqual(await partitions('webhook_deliveries'));
      const where: { id: string; part: string }[] = await ds.query(`SELECT id, tableoid::regclass::text AS part FROM webhook_deliveries ORDER BY id`);
      expect(where.map((w) => w.part)).toEqual(Array(5).fill('webhook_deliveries_from_min'));
      // every index of the partitioned tables on the old rows' partition too (adopted, or built for the new keys)
      const indexes = async (table: string) => (await ds.query(`SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass`, [table])).length;
      expect(await indexes('webhook_deliveries_from_min')).toBe(await indexes('webhook_deliveries'));
      expect(await indexes('webhook_delivery_attempts_from_min')).toBe(await indexes('webhook_delivery_attempts'));
      const leftOver: { conname: string }[] = await ds.query(`SELECT conname FROM pg_constraint WHERE conname LIKE '%_bound'`);
      expect(leftOver).toEqual([]);
      const keys: { table: string; def: string }[] = await ds.query(
        `SELECT conrelid::regclass::text AS table, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'p' AND conrelid IN ('webhook_deliveries'::regclass, 'webhook_delivery_attempts'::regclass) ORDER BY 1`,
      );
      expect(keys).toEqual([
        { table: 'webhook_deliveries', def: 'PRIMARY KEY (id, event_position)' },
        { table: 'webhook_delivery_attempts', def: 'PRIMARY KEY (delivery_id, event_position, number)' },
      ]);
      // and back: the tables as they were, the test messages' positions NULL again
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await partitions('webhook_deliveries')).toEqual([]);
      const tests: { id: string }[] = await ds.query(`SELECT id FROM webhook_deliveries WHERE event_position IS NULL ORDER BY id`);
      expect(tests.map((t) => t.id)).toEqual(['test-new', 'test-old']);
    });
  }
});
