import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource, sqliteHandle } from '../../src/database/data-source.js';
import { WrongExpectedVersionError } from '../../src/event-store/event.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';
import { ManualClock } from '../../src/shared/clock.js';
import { tempDir } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'c-1', causationId: null } };
const event = (n: number) => ({ type: 'test.happened', schemaVersion: 1, data: { n } });

describe('the SQLite event store', () => {
  let ds: DataSource;
  let store: SqliteEventStore;
  let clock: ManualClock;
  const upcasters = new UpcasterRegistry();

  beforeEach(async () => {
    ds = await openDataSource({ kind: 'sqlite', path: join(tempDir(), 'store.sqlite') });
    clock = new ManualClock('2026-05-01T00:00:00.000Z');
    store = new SqliteEventStore(sqliteHandle(ds), clock, upcasters);
  });
  afterEach(() => ds.destroy());

  it('runs SQLite in WAL mode with a busy timeout', () => {
    const db = sqliteHandle(ds);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('appends with an expected version and reads the stream back in order', () => {
    store.transact((tx) => tx.append('s-1', 0, [event(1), event(2)], meta));
    clock.advance(1000);
    store.transact((tx) => tx.append('s-1', 2, [event(3)], meta));
    const read = store.readStream('s-1');
    expect(read.map((e) => [e.version, e.data])).toEqual([[1, { n: 1 }], [2, { n: 2 }], [3, { n: 3 }]]);
    expect(read[0]).toMatchObject({ streamId: 's-1', type: 'test.happened', schemaVersion: 1, metadata: meta.metadata, occurredAt: '2026-05-01T00:00:00.000Z' });
    expect(read[2].occurredAt).toBe('2026-05-01T00:00:01.000Z');
  });

  it('refuses a wrong expected version with a typed error and keeps nothing of that transaction', () => {
    store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
    expect(() =>
      store.transact((tx) => {
        tx.append('s-2', 0, [event(9)], meta);
        return tx.append('s-1', 0, [event(2)], meta);
      }),
    ).toThrow(WrongExpectedVersionError);
    expect(store.readStream('s-2')).toEqual([]);
    expect(store.readStream('s-1')).toHaveLength(1);
  });

  it('reads the global log after a position, in order, across streams', () => {
    store.transact((tx) => tx.append('a', 0, [event(1)], meta));
    store.transact((tx) => tx.append('b', 0, [event(2)], meta));
    store.transact((tx) => tx.append('a', 1, [event(3)], meta));
    const all = store.readAll(0, 10);
    expect(all.map((e) => [e.streamId, e.data])).toEqual([['a', { n: 1 }], ['b', { n: 2 }], ['a', { n: 3 }]]);
    expect(store.readAll(all[0].position, 1).map((e) => e.data)).toEqual([{ n: 2 }]);
  });

  it('allocates ids without gaps when a transaction fails after allocating', () => {
    const first = store.transact((tx) => tx.nextIds('issue', 2));
    expect(() =>
      store.transact((tx) => {
        tx.nextIds('issue', 3);
        throw new Error('the decision failed');
      }),
    ).toThrow('the decision failed');
    expect(store.transact((tx) => tx.nextIds('issue', 1))).toEqual([first[1] + 1]);
  });

  it('refuses an asynchronous transaction and rolls it back', async () => {
    expect(() => store.transact(((tx: any) => Promise.resolve(tx.append('s', 0, [event(1)], meta))) as never)).toThrow(/synchronous/);
    expect(store.readStream('s')).toEqual([]);
  });

  it('tells listeners the new head only after a commit that appended', () => {
    const heard: number[] = [];
    store.onCommit((head) => heard.push(head));
    store.transact((tx) => tx.nextIds('x', 1));
    expect(() => store.transact((tx) => { tx.append('s', 0, [event(1)], meta); throw new Error('no'); })).toThrow();
    const [e] = store.transact((tx) => tx.append('s', 0, [event(1)], meta));
    expect(heard).toEqual([e.position]);
  });

  it('upcasts older schema versions on read, step by step', () => {
    upcasters.register('test.renamed', 1, (d: { title: string }) => ({ name: d.title }));
    upcasters.register('test.renamed', 2, (d: { name: string }) => ({ name: d.name, reason: null }));
    store.transact((tx) => tx.append('u', 0, [{ type: 'test.renamed', schemaVersion: 1, data: { title: 'old' } }], meta));
    expect(store.readStream('u')[0]).toMatchObject({ schemaVersion: 3, data: { name: 'old', reason: null } });
    expect(store.readAll(0, 10).at(-1)).toMatchObject({ schemaVersion: 3 });
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
