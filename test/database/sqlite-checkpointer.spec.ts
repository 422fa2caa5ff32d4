import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { openDataSource, sqliteHandle } from '../../src/database/data-source.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { until } from '../support/process-calls.js';
import { tempDir } from '../support/test-app.js';

/** SQLite's WAL is copied back into the database file by a worker thread, never inside a COMMIT on the event loop, and started over when it grows. */
describe('WAL checkpoints off the event loop (SQLite)', () => {
  let dir: string;
  let ds: DataSource;
  let store: SqliteEventStore;
  const path = () => join(dir, 'herald.sqlite');

  beforeEach(async () => {
    dir = tempDir('herald-checkpoint-');
    ds = await openDataSource({ kind: 'sqlite', path: path() });
    store = new SqliteEventStore(sqliteHandle(ds), new ManualClock('2026-05-01T00:00:00.000Z'));
  });
  afterEach(async () => {
    await store.close();
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const fill = async (megabytes: number) => {
    await store.transact((tx) => tx.exec([{ sql: `CREATE TABLE IF NOT EXISTS filler (x TEXT NOT NULL)`, params: [] }]));
    // 40 KB a commit
    for (let i = 0; i < megabytes * 25; i++) {
      await store.transact((tx) => tx.exec(Array.from({ length: 10 }, () => ({ sql: `INSERT INTO filler (x) VALUES (?)`, params: ['x'.repeat(4000)] }))));
    }
  };

  it('copies what the writer commits into the database file on its own thread; the writer checkpoints nothing', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    const before = statSync(path()).size;
    // 8 MB: SQLite would have checkpointed on the writer (1,000 pages) twice
    await fill(8);
    await until(() => statSync(path()).size > before + 8_000_000, 'the WAL to be copied into the database file', 30_000);
    expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  });

  it('keeps the WAL bounded however much is written: once copied, it starts over', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    await fill(48);
    // started over past 16 MB: at most that and the commits made while the worker noticed
    expect(statSync(`${path()}-wal`).size).toBeLessThan(24_000_000);
  });

  it('makes a write wait for the worker only once per reset size written, not every write after the first reset', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    // 48 MB in 1,200 commits: three times the reset size (the file of a WAL started over keeps its size unless cut back)
    await fill(48);
    const resets = store.checkpointResets();
    expect(resets).toBeGreaterThanOrEqual(1);
    expect(resets).toBeLessThanOrEqual(6);
  });

  it('gives checkpoints back to the writer when the store closes (a CLI may write the file next)', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    await store.close();
    expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it('never terminates its worker while the worker loads SQLite: a store closed at once waits for the worker to connect', async () => {
    // terminating a thread inside better-sqlite3's initialisation aborts the process (CI, Node.js 26, under load)
    await store.close();
    const atTermination: boolean[] = [];
    const original = Worker.prototype.terminate;
    const terminate = jest.spyOn(Worker.prototype, 'terminate');
    try {
      for (let i = 0; i < 3; i++) {
        const another = new SqliteEventStore(sqliteHandle(ds), new ManualClock('2026-05-01T00:00:00.000Z'));
        const checkpointer = (another as unknown as { checkpointer: { worker: Worker } }).checkpointer;
        let connected = false;
        checkpointer.worker.on('message', (report: { ready?: boolean }) => (connected ||= report.ready === true));
        terminate.mockImplementationOnce(function (this: Worker) {
          atTermination.push(connected);
          return original.call(this);
        });
        await another.close();
      }
    } finally {
      terminate.mockRestore();
    }
    expect(atTermination).toEqual([true, true, true]);
  });
});
