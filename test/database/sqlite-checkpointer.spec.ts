import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource, sqliteHandle } from '../../src/database/data-source.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { until } from '../support/process-calls.js';
import { tempDir } from '../support/test-app.js';

/** SQLite's WAL is copied back into the database file by a worker thread, never inside a COMMIT on the event loop. */
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

  it('the writer checkpoints nothing itself, yet what it commits reaches the database file', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    const before = statSync(path()).size;
    await store.transact((tx) => tx.exec([{ sql: `CREATE TABLE filler (x TEXT NOT NULL)`, params: [] }]));
    // 8 MB in 200 commits: SQLite would have checkpointed on the writer (1,000 pages) several times
    for (let i = 0; i < 200; i++) {
      await store.transact((tx) => tx.exec(Array.from({ length: 10 }, () => ({ sql: `INSERT INTO filler (x) VALUES (?)`, params: ['x'.repeat(4000)] }))));
    }
    await until(() => statSync(path()).size > before + 8_000_000, 'the WAL to be copied into the database file', 30_000);
    expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  });

  it('gives checkpoints back to the writer when the store closes (a CLI may write the file next)', async () => {
    const writer = sqliteHandle(ds);
    await until(() => writer.pragma('wal_autocheckpoint', { simple: true }) === 0, 'the checkpoint worker to take over');
    await store.close();
    expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
