import { rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource, sqliteHandle } from '../../src/database/data-source.js';
import { openSqlite, type SqliteDatabase } from '../../src/database/sqlite-driver.js';
import { StorageUnavailableError } from '../../src/database/storage-errors.js';
import { toProblem } from '../../src/http/problem.js';
import type { SyncFile } from '../../src/database/sqlite-wal-sync.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { until } from '../support/process-calls.js';
import { tempDir } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'c-1', causationId: null } };
const event = (n: number) => ({ type: 'test.happened', schemaVersion: 1, data: { n } });

/**
 * The file syncs of the store's WAL, held until the test lets them go: the database is real, only
 * the moment the disk answers is the test's (a disk that never answers holds every answer).
 */
class HeldDisk {
  synced: FileHandle[] = [];
  private release: (() => void) | null = null;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));
  failWith: Error | null = null;
  readonly sync: SyncFile = async (file) => {
    this.synced.push(file);
    await this.held;
    if (this.failWith) throw this.failWith;
    await file.sync();
  };
  answer(): void {
    this.release?.();
  }
}

/** Whether a promise has settled yet (given the loop many turns first: nothing is left pending by a missed tick). */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** With synchronous=FULL, a durable write's COMMIT skips the fsync and its answer waits for one off the loop. */
describe('the WAL synced off the event loop (SQLite, synchronous=FULL)', () => {
  let dir: string;
  let ds: DataSource;
  let store: SqliteEventStore;
  let disk: HeldDisk;
  /** Another connection to the file: what it sees is committed. */
  let other: SqliteDatabase;
  const committed = () => (other.prepare(`SELECT COUNT(*) AS n FROM events`).get() as { n: number }).n;

  beforeEach(async () => {
    dir = tempDir('herald-wal-sync-');
    ds = await openDataSource({ kind: 'sqlite', path: join(dir, 'herald.sqlite') });
    disk = new HeldDisk();
    store = new SqliteEventStore(sqliteHandle(ds), new ManualClock('2026-05-01T00:00:00.000Z'), undefined, disk.sync);
    other = openSqlite(join(dir, 'herald.sqlite'), { readonly: true });
  });
  afterEach(async () => {
    disk.answer();
    other.close();
    await store.close();
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a write only once the disk has answered the sync of what it committed', async () => {
    const write = store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
    await until(() => disk.synced.length > 0, 'the sync to start');
    // committed (another connection reads it), and the loop is free, but the caller has heard nothing
    expect(committed()).toBe(1);
    expect(sqliteHandle(ds).pragma('synchronous', { simple: true })).toBe(1); // NORMAL: COMMIT itself synced nothing
    expect(await settledYet(write)).toBe(false);
    disk.answer();
    expect((await write).map((e) => e.version)).toEqual([1]);
  });

  it('lets nothing act on it meanwhile: reads of the log, and the subscriptions told of new events, wait for the sync too', async () => {
    const told: number[] = [];
    store.onCommit((position) => told.push(position));
    const write = store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
    await until(() => committed() === 1 && disk.synced.length > 0, 'the commit, and its sync to start');
    const read = store.readAll(0, 10);
    const stream = store.readStream('s-1');
    expect(await settledYet(read)).toBe(false);
    expect(await settledYet(stream)).toBe(false);
    expect(told).toEqual([]);
    // read-model queries do not wait (they act on nothing; a command that follows is answered after a sync covering this one)
    expect(await store.queryOne(`SELECT COUNT(*) AS n FROM events`)).toEqual({ n: 1 });
    disk.answer();
    await write;
    expect((await read).map((e) => e.streamId)).toEqual(['s-1']);
    expect(await stream).toHaveLength(1);
    expect(told).toHaveLength(1);
  });

  it('lets the next writes commit while the disk works, and syncs them all with one fsync (group commit)', async () => {
    const first = store.transact((tx) => tx.append('s-0', 0, [event(0)], meta));
    await until(() => disk.synced.length > 0, 'the first sync to start');
    const syncsBefore = store.walSync!.syncs;
    // one write per turn of the loop: each its own batch, its own COMMIT
    const next: Promise<unknown>[] = [];
    for (let i = 1; i <= 20; i++) {
      next.push(store.transact((tx) => tx.append(`s-${i}`, 0, [event(i)], meta)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => committed() === 21, 'the 20 later writes to commit while the first sync runs');
    // committed, not answered: their sync starts once the first one is done
    expect(await settledYet(Promise.race(next))).toBe(false);
    disk.answer();
    await Promise.all([first, ...next]);
    // the first sync, and one more for the 20 committed while it ran
    expect(store.walSync!.syncs - syncsBefore).toBe(1);
  });

  it('fails the answers when the sync fails: 503, the outcome unknown (the event is committed, its survival of a power cut is not)', async () => {
    disk.failWith = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const write = store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
    disk.answer();
    const failure = await write.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageUnavailableError);
    expect(failure).toMatchObject({ outcomeUnknown: true, fault: { kind: 'io-error', code: 'WAL_SYNC_EIO' } });
    expect(toProblem(failure)).toMatchObject({ status: 503, detail: expect.stringMatching(/committed but could not be synced to disk, so it may have been applied/) });
  });

  it('does not wait for a sync when the write is not durable (the delivery engine’s bookkeeping)', async () => {
    await store.transact((tx) => tx.exec([{ sql: `INSERT INTO id_sequences (name, value) VALUES ('x', 1)`, params: [] }]), { durable: false });
    expect(disk.synced).toEqual([]);
  });
});

describe('the WAL with synchronous=NORMAL configured', () => {
  it('is never synced by Herald: a power cut may take the last commits back, as documented', async () => {
    const dir = tempDir('herald-wal-normal-');
    const ds = await openDataSource({ kind: 'sqlite', path: join(dir, 'herald.sqlite'), synchronous: 'NORMAL' });
    const store = new SqliteEventStore(sqliteHandle(ds), new ManualClock('2026-05-01T00:00:00.000Z'));
    try {
      await store.transact((tx) => tx.append('s-1', 0, [event(1)], meta));
      expect(store.walSync).toBeNull();
    } finally {
      await store.close();
      await ds.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
