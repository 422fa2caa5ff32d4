import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { openDataSource, pgPool } from '../../src/database/data-source.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { tempDir, testDatabaseUrl } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'c-1', causationId: null } };
const event = (n: number) => ({ type: 'test.happened', schemaVersion: 1, data: { n } });

/** Resolves when heard, or rejects after a deadline (no sleeps: the signal is awaited). */
const heard = (store: PostgresEventStore, ms = 5000) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no wake-up within ${ms} ms`)), ms);
    const off = store.onLogAdvanced(() => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });

describe('wake-ups across instances (PostgreSQL LISTEN/NOTIFY)', () => {
  let url: string;
  const sources: DataSource[] = [];
  const stores: PostgresEventStore[] = [];
  const open = async (listen: boolean) => {
    const ds = await openDataSource(loadConfig({ DATABASE_URL: url }, tempDir()).database);
    const store = new PostgresEventStore(pgPool(ds), new ManualClock(), undefined, listen ? url : undefined);
    sources.push(ds);
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    url = await testDatabaseUrl(tempDir(), 'postgres');
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const ds of sources) await ds.destroy();
  });

  it("wakes another instance's readers after a commit that appended, and keeps doing so after its connection is cut", async () => {
    const writer = await open(false);
    const reader = await open(true);
    // the LISTEN connection comes up in the background: wait until it is there
    const listening = async () => {
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        const rows = await writer.query<{ n: number }>(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`);
        if (rows[0].n > 0) return;
      }
      throw new Error('the reader never listened');
    };
    await listening();
    let wake = heard(reader);
    await writer.transact((tx) => tx.append('s', 0, [event(1)], meta));
    await wake;

    // a transaction that appends nothing signals nothing (the reader hears only the next append)
    let extra = 0;
    const off = reader.onLogAdvanced(() => extra++);
    await writer.transact((tx) => tx.nextIds('x', 1));

    // the database drops the LISTEN connection: the reader reconnects and hears again
    await writer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`);
    await new Promise((r) => setTimeout(r, 50));
    await listening();
    wake = heard(reader);
    await writer.transact((tx) => tx.append('s', 1, [event(2)], meta));
    await wake;
    off();
    expect(extra).toBe(1);
  });

  it('tells another instance of new deliveries with the commit that made them, and not its log readers', async () => {
    const writer = await open(false);
    const listeners = async () =>
      Number((await writer.query<{ n: number }>(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`))[0].n);
    const before = await listeners();
    const reader = await open(true);
    for (const deadline = Date.now() + 5000; (await listeners()) === before && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    let logWakes = 0;
    const offLog = reader.onLogAdvanced(() => logWakes++);
    const told = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no signal within 5 s')), 5000);
      const off = reader.onSignal('deliveries', () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    // a transaction that rolls back signals nothing; one that commits does
    await expect(
      writer.transact((tx) => {
        tx.signal('deliveries');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    let local = 0;
    const offLocal = writer.onSignal('deliveries', () => local++);
    await writer.transact((tx) => tx.signal('deliveries'));
    await told;
    expect(local).toBe(1); // this instance is told at once, without waiting for its own NOTIFY
    expect(logWakes).toBe(0);
    offLog();
    offLocal();
  });
});
