import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../../src/config/config.js';
import { openDataSource, sqliteHandle } from '../../../src/database/data-source.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite-event-store.js';
import { systemClock } from '../../../src/shared/clock.js';
import { ThisInstance } from '../../../src/webhooks/delivery/instance.js';
import { DeliveryQueue } from '../../../src/webhooks/delivery/queue.js';

/**
 * How SQLite runs the claim: through the lane index, in its order, whatever a webhook has
 * queued. A plan that takes another index sorts every open delivery of the webhook at each claim
 * (a claim of 50 after a replay of a million: the whole million, each time).
 */
describe('the delivery queue’s claim on SQLite', () => {
  let dir: string;
  let ds: DataSource;
  let store: SqliteEventStore;
  const statements: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-plans-'));
    ds = await openDataSource({ kind: 'sqlite', path: join(dir, 'herald.sqlite') });
    const db = sqliteHandle(ds);
    // every statement the store prepares on the writer, as sent
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      statements.push(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    store = new SqliteEventStore(db, systemClock);
  });

  afterEach(async () => {
    await store.close();
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([false, true])('reads a webhook’s due deliveries through ix_deliveries_lane, with no sort (ordered webhook: %s)', async (ordered) => {
    const queue = new DeliveryQueue(store, loadConfig({}, dir), new ThisInstance());
    expect(await queue.claim(7, ordered)).toEqual([]);
    const claim = statements.find((sql) => sql.includes('UPDATE webhook_deliveries SET status = \'DELIVERING\''));
    expect(claim).toBeDefined();
    const plan = (sqliteHandle(ds).prepare(`EXPLAIN QUERY PLAN ${claim}`).all(...Array(claimParams(claim!)).fill(1)) as { detail: string }[]).map((row) => row.detail);
    const due = plan.filter((detail) => /\bd\b/.test(detail) && /^(SEARCH|SCAN)/.test(detail));
    expect(due.length).toBeGreaterThan(0);
    for (const step of due) expect(step).toMatch(/USING INDEX ix_deliveries_lane \(webhook_id=\?/);
    if (!ordered) expect(plan).not.toContain('USE TEMP B-TREE FOR ORDER BY');
  });
});

/** The placeholders of a statement (outside string literals). */
function claimParams(sql: string): number {
  return sql.replace(/'[^']*'/g, '').split('?').length - 1;
}
