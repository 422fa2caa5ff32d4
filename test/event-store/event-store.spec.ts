import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { openDataSource, pgPool, sqliteHandle } from '../../src/database/data-source.js';
import { openSqlite } from '../../src/database/sqlite-driver.js';
import { WrongExpectedVersionError } from '../../src/event-store/event.js';
import { LOG_START, type EventStore } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';
import { ManualClock } from '../../src/shared/clock.js';
import { tempDir, testDatabaseUrl, testEngine } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'c-1', causationId: null } };
const event = (n: number) => ({ type: 'test.happened', schemaVersion: 1, data: { n } });

describe(`the event store (${testEngine()})`, () => {
  let ds: DataSource;
  let store: EventStore;
  let clock: ManualClock;
  const upcasters = new UpcasterRegistry();

  beforeEach(async () => {
    const dir = tempDir();
    ds = await openDataSource(loadConfig({ DATABASE_URL: await testDatabaseUrl(dir) }, dir).database);
    clock = new ManualClock('2026-05-01T00:00:00.000Z');
    store = ds.options.type === 'postgres' ? new PostgresEventStore(pgPool(ds), clock, upcasters) : new SqliteEventStore(sqliteHandle(ds), clock, upcasters);
  });
  afterEach(async () => {
    await store.close();
    await ds.destroy();
  });

  if (testEngine() === 'sqlite') {
    it('runs SQLite in WAL mode with a busy timeout', () => {
      const db = sqliteHandle(ds);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    });
  }

  if (testEngine() === 'sqlite') {
    it('fails the callers of a batch whose BEGIN cannot get the write lock, and goes on afterwards', async () => {
      const db = sqliteHandle(ds);
      db.pragma('busy_timeout = 50');
      // another process holds SQLite's write lock
      const other = openSqlite(db.name);
      other.exec('BEGIN IMMEDIATE');
      // (toMatchObject, not toThrow: better-sqlite3's native part keeps the SqliteError of the first test file that
      // loaded it in this jest worker, an Error of that file's realm, which toThrow does not take for an error here)
      await expect(store.transact((tx) => tx.append('s', 0, [event(1)], meta))).rejects.toMatchObject({ message: expect.stringMatching(/locked|busy/i) });
      other.exec('ROLLBACK');
      other.close();
      await store.transact((tx) => tx.append('s', 0, [event(1)], meta));
      expect(await store.readStream('s')).toHaveLength(1);
    });
  }

  it('appends with an expected version and reads the stream back in order', async () => {
    await store.transact((tx) => tx.append('s-1', 0, [event(1), event(2)], meta));
    clock.advance(1000);
    await store.transact((tx) => tx.append('s-1', 2, [event(3)], meta));
    const read = await store.readStream('s-1');
    expect(read.map((e) => [e.version, e.data])).toEqual([[1, { n: 1 }], [2, { n: 2 }], [3, { n: 3 }]]);
    expect(read[0]).toMatchObject({ streamId: 's-1', type: 'test.happened', schemaVersion: 1, metadata: meta.metadata, occurredAt: '2026-05-01T00:00:00.000Z' });
    expect(read[2].occurredAt).toBe('2026-05-01T00:00:01.000Z');
  });

  it('refuses a wrong expected version with a typed error and keeps nothing of that transaction', async () => {
    await store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
    await expect(
      store.transact(async (tx) => {
        await tx.append('s-2', 0, [event(9)], meta);
        return tx.append('s-1', 0, [event(2)], meta);
      }),
    ).rejects.toThrow(WrongExpectedVersionError);
    expect(await store.readStream('s-2')).toEqual([]);
    expect(await store.readStream('s-1')).toHaveLength(1);
  });

  it('reads the global log after a position, in order, across streams', async () => {
    await store.transact((tx) => tx.append('a', 0, [event(1)], meta));
    await store.transact((tx) => tx.append('b', 0, [event(2)], meta));
    await store.transact((tx) => tx.append('a', 1, [event(3)], meta));
    const all = await store.readAll(0, 10);
    expect(all.map((e) => [e.streamId, e.data])).toEqual([['a', { n: 1 }], ['b', { n: 2 }], ['a', { n: 3 }]]);
    expect((await store.readAll(all[0].position, 1)).map((e) => e.data)).toEqual([{ n: 2 }]);
    // a subscription's reading: a cursor, then the events after it. On PostgreSQL readLog shows a commit once every
    // older transaction on the server has ended, other suites' too: wait (bounded) until it shows all three
    for (const deadline = Date.now() + 10_000; (await store.readLog(LOG_START, 10)).events.length < 3 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await store.readLog(LOG_START, 1);
    expect(first.events.map((e) => e.data)).toEqual([{ n: 1 }]);
    const { events, cursor } = await store.readLog(first.cursor, 10);
    expect(events.map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(cursor.position).toBe(all[2].position);
    expect((await store.readLog(cursor, 10)).events).toEqual([]);
  });

  it('gives the cursor of a reader that has read everything readable now, and counts the statements it sends', async () => {
    expect(await store.headCursor()).toMatchObject({ position: 0 });
    await store.transact((tx) => tx.append('a', 0, [event(1), event(2)], meta));
    // (PostgreSQL: readable once every older transaction on the server has ended)
    for (const deadline = Date.now() + 10_000; (await store.headCursor()).position === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
    const head = await store.headCursor();
    expect(head.position).toBe((await store.readAll(0, 10))[1].position);
    expect((await store.readLog(head, 10)).events).toEqual([]);
    const before = store.roundTrips;
    await store.transact((tx) => tx.append('a', 2, [event(3)], meta));
    expect(store.roundTrips).toBeGreaterThan(before);
    for (const deadline = Date.now() + 10_000; (await store.readLog(head, 10)).events.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await store.readLog(head, 10)).events.map((e) => e.data)).toEqual([{ n: 3 }]);
  });

  it('allocates ids without gaps when a transaction fails after allocating', async () => {
    const first = await store.transact((tx) => tx.nextIds('issue', 2));
    await expect(
      store.transact(async (tx) => {
        await tx.nextIds('issue', 3);
        throw new Error('the decision failed');
      }),
    ).rejects.toThrow('the decision failed');
    expect(await store.transact((tx) => tx.nextIds('issue', 1))).toEqual([first[1] + 1]);
  });

  it('refuses a write started inside another (it would wait for itself) and rolls the outer one back', async () => {
    await expect(
      store.transact(async (tx) => {
        await tx.append('s', 0, [event(1)], meta);
        await store.transact((inner) => inner.append('t', 0, [event(2)], meta));
      }),
    ).rejects.toThrow(/nested write transaction/);
    expect(await store.readStream('s')).toEqual([]);
    expect(await store.readStream('t')).toEqual([]);
  });

  it('shows readers committed data only, never a transaction in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let appended!: () => void;
    const halfWritten = new Promise<void>((resolve) => (appended = resolve));
    const writing = store.transact(async (tx) => {
      await tx.append('s', 0, [event(1)], meta);
      appended();
      await gate; // a real wait inside the transaction: other requests run meanwhile
      await tx.append('s', 1, [event(2)], meta);
    });
    // the first event is appended and the transaction still open: that is what the readers must not see
    await halfWritten;
    expect(await store.readStream('s')).toEqual([]);
    expect(await store.head()).toBe(0);
    release();
    await writing;
    expect((await store.readStream('s')).map((e) => e.version)).toEqual([1, 2]);
  });

  it('tells listeners the new head only after a commit that appended', async () => {
    const heard: number[] = [];
    store.onCommit((head) => heard.push(head));
    await store.transact((tx) => tx.nextIds('x', 1));
    await expect(
      store.transact(async (tx) => {
        await tx.append('s', 0, [event(1)], meta);
        throw new Error('no');
      }),
    ).rejects.toThrow();
    const [e] = await store.transact((tx) => tx.append('s', 0, [event(1)], meta));
    expect(heard).toEqual([e.position]);
  });

  it('upcasts older schema versions on read, step by step', async () => {
    upcasters.register('test.renamed', 1, (d: { title: string }) => ({ name: d.title }));
    upcasters.register('test.renamed', 2, (d: { name: string }) => ({ name: d.name, reason: null }));
    await store.transact((tx) => tx.append('u', 0, [{ type: 'test.renamed', schemaVersion: 1, data: { title: 'old' } }], meta));
    expect((await store.readStream('u'))[0]).toMatchObject({ schemaVersion: 3, data: { name: 'old', reason: null } });
    expect((await store.readAll(0, 10)).at(-1)).toMatchObject({ schemaVersion: 3 });
  });
});

describe('event ids', () => {
  it('are UUID version 7, ordered by time', async () => {
    const { uuidv7 } = await import('../../src/event-store/event-id.js');
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.slice(0, 13)).toBe('018bcfe5-6800');
  });
});
