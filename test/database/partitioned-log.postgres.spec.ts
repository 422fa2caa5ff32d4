import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, pgPool } from '../../src/database/data-source.js';
import { PartitionedLog1765400000000 } from '../../src/database/migrations/1765400000000-partitioned-log.js';
import { migrations } from '../../src/database/migrations/index.js';
import { PartitionKeeper } from '../../src/database/partition-keeper.js';
import { RangePartitions } from '../../src/database/range-partitions.js';
import { WrongExpectedVersionError } from '../../src/event-store/event.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const SPAN = 20;
const meta = { metadata: { actorId: 2, correlationId: 'c-1', causationId: null } };
const event = (n: number) => ({ type: 'test.happened', schemaVersion: 1, data: { n } });

describe('the partitioned log (PostgreSQL)', () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];
  const open = async (list: typeof migrations = migrations) => {
    const ds = new DataSource({ ...dataSourceOptions({ kind: 'postgres', url: db.url, poolSize: 4, partitionSpan: SPAN }), migrations: list });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    opened.push(ds);
    return ds;
  };

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    for (const ds of opened.splice(0)) if (ds.isInitialized) await ds.destroy();
    await db.drop();
  });

  const ranges = async (ds: DataSource, table = 'events') => (await new RangePartitions(pgPool(ds), table, 'position').list()).map((p) => [p.name, p.from, p.to]);

  it('migrates a log that has events: rows, versions and positions kept, streams headed, and the next appends go on from there', async () => {
    const old = await open(migrations.slice(0, migrations.indexOf(PartitionedLog1765400000000)));
    // the log as the earlier schema holds it (an identity position), two streams interleaved
    const written = [['s-1', 1], ['s-2', 1], ['s-1', 2], ['s-1', 3], ['s-2', 2], ['s-1', 4], ['s-1', 5], ['s-2', 3]] as const;
    for (const [stream, version] of written) {
      await old.query(
        `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ($1, $2, $3, 'test.happened', 1, $4, '{}', '2026-03-01T10:00:00.000Z')`,
        [`${stream}-${version}`, stream, version, JSON.stringify({ stream, version })],
      );
    }
    const before = await old.query(`SELECT position, transaction_id::text, event_id, stream_id, version, data FROM events ORDER BY position`);
    await old.destroy();

    const ds = await open();
    expect(await ds.query(`SELECT position, transaction_id::text, event_id, stream_id, version, data FROM events ORDER BY position`)).toEqual(before);
    const head = Number(before[before.length - 1].position);
    // the old table is the first partition, the next one starts right after its last event
    expect(await ranges(ds)).toEqual([['events_from_min', null, head + 1], [`events_from_${head + 1}`, head + 1, head + 1 + SPAN]]);
    // the old table's rows under the log's indexes: its own primary key and (transaction_id, position) adopted, two built
    const indexes = await ds.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'events_from_min' ORDER BY indexdef`);
    expect(indexes.map((i: { indexdef: string }) => i.indexdef.replace(/^.* USING btree /, ''))).toEqual(
      expect.arrayContaining(['("position")', '(event_id, "position")', '(stream_id, version)', '(transaction_id, "position")']),
    );
    expect(indexes).toHaveLength(4);
    expect(await ds.query(`SELECT stream_id, version, first_position::int AS first FROM stream_heads ORDER BY stream_id`)).toEqual([
      { stream_id: 's-1', version: 5, first: Number(before[0].position) },
      { stream_id: 's-2', version: 3, first: Number(before[1].position) },
    ]);

    const store = new PostgresEventStore(pgPool(ds), new ManualClock());
    const [appended] = await store.transact((tx) => tx.append('s-1', 5, [event(6)], meta));
    expect([appended.position, appended.version]).toEqual([head + 1, 6]);
    await expect(store.transact((tx) => tx.append('s-2', 2, [event(3)], meta))).rejects.toThrow(WrongExpectedVersionError);
    await store.transact((tx) => tx.append('s-3', 0, [event(1)], meta));
    expect((await store.readStream('s-1')).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.readStream('s-3')).map((e) => e.position)).toEqual([head + 2]); // the refused append took no position
    expect(await store.transact((tx) => tx.streamVersion('s-2'))).toBe(3);
    await store.close();
  });

  it('refuses all but one of appends racing on one version, of a stream that exists and of a new one', async () => {
    const ds = await open();
    const store = new PostgresEventStore(pgPool(ds), new ManualClock());
    await store.transact((tx) => tx.append('old', 0, [event(1)], meta));
    for (const [stream, expected] of [['old', 1], ['new', 0]] as const) {
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, n) => store.transact((tx) => tx.append(stream, expected, [event(n)], meta))));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(WrongExpectedVersionError);
      expect((await store.readStream(stream)).map((e) => e.version)).toEqual(Array.from({ length: expected + 1 }, (_, i) => i + 1));
    }
    await store.close();
  });

  it('takes appends to a stream whose events were written around the store (no head yet) at its last version only', async () => {
    const ds = await open();
    for (const version of [1, 2]) {
      await ds.query(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ($1, 'raw', $2, 't', 1, '{}', '{}', 'x')`, [`raw-${version}`, version]);
    }
    const store = new PostgresEventStore(pgPool(ds), new ManualClock());
    expect(await store.transact((tx) => tx.streamVersion('raw'))).toBe(2);
    await expect(store.transact((tx) => tx.append('raw', 1, [event(2)], meta))).rejects.toThrow(WrongExpectedVersionError);
    await expect(store.transact((tx) => tx.append('raw', 0, [event(1)], meta))).rejects.toThrow(WrongExpectedVersionError);
    await store.transact((tx) => tx.append('raw', 2, [event(3)], meta));
    expect((await store.readStream('raw')).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(await ds.query(`SELECT version, first_position FROM stream_heads WHERE stream_id = 'raw'`)).toEqual([{ version: 3, first_position: null }]);
    await store.close();
  });

  it('has the keeper turn on its own, without commits of its instance (another instance’s appends), and stop when told', async () => {
    const ds = await open();
    let head = 0;
    const log = { head: async () => head, onCommit: () => () => undefined, observeStorage: () => () => undefined };
    const keeper = new PartitionKeeper(pgPool(ds), log, SPAN, 50);
    await keeper.start();
    const lastEnd = async () => (await ranges(ds)).pop()![2] as number;
    expect(await lastEnd()).toBe(1 + SPAN);
    head = 95;
    const deadline = Date.now() + 20_000;
    while ((await lastEnd()) <= head + SPAN && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await lastEnd()).toBe(121);
    await keeper.onModuleDestroy();
    head = 300;
    await keeper.turn(); // a turn asked for once stopped does nothing
    expect(await lastEnd()).toBe(121);
  });

  it('two instances’ keepers turning at once add each range once, contiguous, one span past the head', async () => {
    const ds = await open();
    const pools = [new pg.Pool({ connectionString: db.url, max: 2 }), new pg.Pool({ connectionString: db.url, max: 2 })];
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      let head = 0;
      const log = { head: async () => head, onCommit: () => () => undefined, observeStorage: () => () => undefined };
      const keepers = pools.map((pool) => new PartitionKeeper(pool, log, SPAN));
      for (const step of [35, 90, 200]) {
        head = step;
        await Promise.all([...keepers.map((k) => k.turn()), ...keepers.map((k) => k.turn())]);
        const now = await ranges(ds);
        expect(now.map(([, from]) => from)).toEqual(Array.from({ length: now.length }, (_, i) => 1 + i * SPAN)); // contiguous, none twice
        expect(now[now.length - 1][2]).toBeGreaterThan(head + SPAN);
        expect(now[now.length - 1][2]).toBeLessThanOrEqual(head + 2 * SPAN + 1);
      }
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
