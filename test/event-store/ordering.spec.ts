import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { openDataSource, pgPool, sqliteHandle } from '../../src/database/data-source.js';
import type { RecordedEvent } from '../../src/event-store/event.js';
import { LOG_START, type EventStore, type LogCursor } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';
import { systemClock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { tempDir, testEngine } from '../support/test-app.js';

/**
 * The log a checkpointed subscription reads (EventStore.readLog) under concurrent
 * writers: every committed event exactly once, nothing rolled back, each stream in
 * version order. Engine-aware, like the other suites of this folder (both jest projects
 * run it): on PostgreSQL writers really overlap (a connection each) and commit in
 * another order than they took positions; on SQLite they queue into group commits with
 * a SAVEPOINT per transaction, and the same invariants must hold there. The controls
 * show what a reader by position alone (readAll) does: on PostgreSQL it skips an event
 * that committed after a higher position was visible (made to happen, not hoped for),
 * on SQLite it misses nothing (positions are taken in commit order).
 *
 * pg_snapshot_xmin is server-wide: a transaction open in another database of the same
 * server (another jest worker) delays what readLog shows, so the readers poll until a
 * deadline and nothing assumes instant visibility.
 */
const engine = testEngine();
const meta = { metadata: { actorId: 2, correlationId: 'ordering', causationId: null } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WRITERS = 8;
const TOTAL = 10_000;
const PER_WRITER = TOTAL / WRITERS;
/** Streams every writer appends to (the per-stream lock serializes them) besides its own. */
const SHARED_STREAMS = 12;
const CATCH_UP_MS = 15_000;

/** Deterministic per writer: the same mix of transactions every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strictly after, in the order a reader of the log sees it: (transaction id as a number, then position). */
function after(a: RecordedEvent, b: RecordedEvent): boolean {
  const ta = BigInt(a.transactionId ?? '0');
  const tb = BigInt(b.transactionId ?? '0');
  return ta !== tb ? ta > tb : a.position > b.position;
}

class Planned extends Error {}

describe(`the subscription log under concurrent writers (${engine})`, () => {
  let dir: string;
  let database: TestDatabase | undefined;
  let ds: DataSource;
  let store: EventStore;

  beforeEach(async () => {
    dir = tempDir('herald-ordering-');
    database = engine === 'postgres' ? await createTestDatabase() : undefined;
    const url = database?.url ?? `sqlite:${join(dir, 'herald.sqlite')}`;
    // writers, two readers and the straggler each hold a connection at once
    ds = await openDataSource(loadConfig({ DATABASE_URL: url, HERALD_PG_POOL_SIZE: '16' }, dir).database);
    store = ds.options.type === 'postgres' ? new PostgresEventStore(pgPool(ds), systemClock, new UpcasterRegistry()) : new SqliteEventStore(sqliteHandle(ds), systemClock);
  });

  afterEach(async () => {
    await store.close();
    await ds.destroy();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`shows ${TOTAL} events of ${WRITERS} concurrent writers exactly once, none rolled back, every stream in order`, async () => {
    const committed = new Map<string, RecordedEvent>();
    const rolledBack = new Set<string>();
    const positionReaderSaw: RecordedEvent[] = [];

    // PostgreSQL: a transaction takes the first position, then stays open until the
    // position-only reader has moved past it (while everyone else commits): it then commits
    // "behind" that reader. On SQLite a transaction held open would hold every writer.
    let straggler: { event: RecordedEvent; committed: Promise<void> } | undefined;
    if (engine === 'postgres') {
      let appended!: (event: RecordedEvent) => void;
      const first = new Promise<RecordedEvent>((resolve) => (appended = resolve));
      const committing = store.transact(async (tx) => {
        await tx.lockStream('straggler');
        const [event] = await tx.append('straggler', 0, [{ type: 'test.straggled', schemaVersion: 1, data: {} }], meta);
        appended(event);
        // until the position reader has read a later event (deterministic: every later event has a higher
        // position), then briefly while more commit; not longer: pg_snapshot_xmin is server-wide, and a
        // transaction held open here holds back readLog in the other suites running on this server too
        const deadline = Date.now() + CATCH_UP_MS;
        while (positionReaderSaw.length === 0 && Date.now() < deadline) await sleep(2);
        const more = Date.now() + 200;
        while (positionReaderSaw.length < 200 && Date.now() < more) await sleep(2);
        return event;
      });
      const event = await Promise.race([first, committing]);
      straggler = { event, committed: committing.then((e) => void committed.set(e.eventId, e)) };
    }

    // set once every transaction has ended: from then on the readers read until they have it all
    let allCommitted = false;
    let readDeadline = Infinity;
    // the subscription's reader: a (transaction id, position) cursor, slices of 500
    const logReaderSaw: RecordedEvent[] = [];
    const logReader = (async () => {
      let cursor: LogCursor = LOG_START;
      while (!(allCommitted && logReaderSaw.length >= committed.size) && Date.now() < readDeadline) {
        const slice = await store.readLog(cursor, 500);
        logReaderSaw.push(...slice.events);
        cursor = slice.cursor;
        if (slice.events.length === 0) await sleep(2);
      }
    })();
    // the unsafe reader: a position cursor (readAll is for exports and the admin feed); it
    // stops at its first empty read after the last commit (what it skipped stays skipped)
    const positionReader = (async () => {
      let position = 0;
      while (Date.now() < readDeadline) {
        const last = allCommitted;
        const events = await store.readAll(position, 500);
        positionReaderSaw.push(...events);
        if (events.length > 0) position = events[events.length - 1].position;
        else if (last) return;
        else await sleep(2);
      }
    })();

    const writer = async (w: number) => {
      const random = prng(w + 1);
      let done = 0;
      for (let n = 1; done < PER_WRITER; n++) {
        const size = Math.min(PER_WRITER - done, random() < 0.4 ? 2 + Math.floor(random() * 5) : 1);
        // most transactions one stream; some append to two (locks taken in name order, before any write)
        const streams = [random() < 0.5 ? `shared-${Math.floor(random() * SHARED_STREAMS)}` : `writer-${w}`];
        if (size > 1 && random() < 0.25) streams.push(streams[0] === `writer-${w}` ? `shared-${Math.floor(random() * SHARED_STREAMS)}` : `writer-${w}`);
        streams.sort();
        const rollback = n % 50 === 0;
        const appended: RecordedEvent[] = [];
        try {
          await store.transact(async (tx) => {
            for (const stream of streams) await tx.lockStream(stream);
            for (const [i, stream] of streams.entries()) {
              const count = streams.length === 1 ? size : i === 0 ? Math.ceil(size / 2) : Math.floor(size / 2);
              const version = await tx.streamVersion(stream);
              const events = Array.from({ length: count }, (_, k) => ({ type: 'test.written', schemaVersion: 1, data: { w, n, k } }));
              appended.push(...(await tx.append(stream, version, events, meta)));
              // let the other writers' statements in between (SQLite: the next unit of the batch)
              if (random() < 0.2) await new Promise((resolve) => setImmediate(resolve));
            }
            if (rollback) throw new Planned(`writer ${w} rolls back transaction ${n}`);
          });
        } catch (error) {
          if (!(error instanceof Planned)) throw error;
          for (const event of appended) rolledBack.add(event.eventId);
          continue;
        }
        for (const event of appended) committed.set(event.eventId, event);
        done += appended.length;
      }
    };

    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await straggler?.committed;
      allCommitted = true;
      readDeadline = Date.now() + CATCH_UP_MS;
    } catch (error) {
      readDeadline = 0;
      throw error;
    } finally {
      await Promise.all([logReader, positionReader]);
    }

    const expected = TOTAL + (straggler ? 1 : 0);
    expect(committed.size).toBe(expected);
    expect(rolledBack.size).toBeGreaterThan(0);

    // every committed event exactly once, none rolled back
    const seen = logReaderSaw.map((e) => e.eventId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => rolledBack.has(id))).toEqual([]);
    expect(seen.filter((id) => !committed.has(id))).toEqual([]);
    const seenIds = new Set(seen);
    expect([...committed.keys()].filter((id) => !seenIds.has(id))).toEqual([]);
    expect(seen).toHaveLength(expected);

    // in (transaction id, position) order, and every stream 1..n without a gap, in order
    const outOfOrder = logReaderSaw.findIndex((e, i) => i > 0 && !after(e, logReaderSaw[i - 1]));
    expect(outOfOrder).toBe(-1);
    const streamVersions = new Map<string, number[]>();
    for (const e of logReaderSaw) {
      if (!streamVersions.has(e.streamId)) streamVersions.set(e.streamId, []);
      streamVersions.get(e.streamId)!.push(e.version);
    }
    for (const [streamId, versions] of streamVersions) {
      expect({ streamId, versions }).toEqual({ streamId, versions: versions.map((_, i) => i + 1) });
    }
    expect(streamVersions.size).toBe(WRITERS + SHARED_STREAMS + (straggler ? 1 : 0));

    // the control: a reader by position alone
    const positionSeen = new Set(positionReaderSaw.map((e) => e.eventId));
    const missedByPosition = [...committed.values()].filter((e) => !positionSeen.has(e.eventId));
    if (straggler) {
      // it read later positions before the straggler's lower one committed, and never went back for it
      expect(missedByPosition.map((e) => e.eventId)).toContain(straggler.event.eventId);
      expect(seen).toContain(straggler.event.eventId);
    } else {
      // one writer at a time: positions are taken in commit order, the position is a safe cursor
      expect(missedByPosition).toEqual([]);
      expect(positionReaderSaw.map((e) => e.eventId)).toEqual(seen);
    }
  }, 60_000);

  if (engine === 'postgres') {
    it('a lower position that commits after a higher one: readAll by position skips it for good, readLog shows both in order', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let t1Appended!: (e: RecordedEvent) => void;
      const t1Event = new Promise<RecordedEvent>((resolve) => (t1Appended = resolve));
      const t1 = store.transact(async (tx) => {
        const [e] = await tx.append('a', 0, [{ type: 'test.first', schemaVersion: 1, data: {} }], meta);
        t1Appended(e);
        await gate;
      });
      let first: RecordedEvent, second: RecordedEvent, cursor: number;
      try {
        first = await Promise.race([t1Event, t1.then(() => Promise.reject(new Error('T1 ended before it appended')))]);
        [second] = await store.transact((tx) => tx.append('b', 0, [{ type: 'test.second', schemaVersion: 1, data: {} }], meta));
        expect(second.position).toBeGreaterThan(first.position);
        expect(BigInt(second.transactionId!)).toBeGreaterThan(BigInt(first.transactionId!));

        // T2 is committed and T1 is not: by position it is visible already; readLog holds it back behind T1
        const byPosition = await store.readAll(0, 10);
        expect(byPosition.map((e) => e.eventId)).toEqual([second.eventId]);
        cursor = byPosition[0].position;
        expect((await store.readLog(LOG_START, 10)).events).toEqual([]);
        expect(await store.countAfter(LOG_START)).toBe(1);
      } finally {
        // a failed expectation above must not leave T1 open (its connection would hold the teardown)
        release();
        await t1;
      }
      expect((await store.readAll(0, 10)).map((e) => e.eventId)).toEqual([first.eventId, second.eventId]);
      // the position reader goes on from where it was: the first event is behind it for good
      expect(await store.readAll(cursor, 10)).toEqual([]);
      // the subscription's reader gets both, first the one whose transaction started writing first
      const deadline = Date.now() + CATCH_UP_MS;
      let log = await store.readLog(LOG_START, 10);
      while (log.events.length < 2 && Date.now() < deadline) {
        await sleep(5);
        log = await store.readLog(LOG_START, 10);
      }
      expect(log.events.map((e) => e.eventId)).toEqual([first.eventId, second.eventId]);
      expect(log.cursor).toEqual({ transactionId: second.transactionId, position: second.position });
    });
  }
});
