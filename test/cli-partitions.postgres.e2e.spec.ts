import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { RangePartitions } from '../src/database/range-partitions.js';
import { api } from './support/api.js';
import { heraldCli as herald } from './support/process-calls.js';
import { startTestApp, tempDir, testDatabaseUrl } from './support/test-app.js';

const SPAN = 10;

/** The command line keeps PostgreSQL's partitions ahead of what it appends, as the service does: no instance need run beside it. */
describe('the herald command line on a partitioned log (PostgreSQL, 10 positions a partition)', () => {
  it('imports a log many partitions long into a database no service is running on, and exports only events on standard output', async () => {
    const key = { HERALD_SECRET_KEY: Buffer.alloc(32, 5).toString('base64') };
    const source = tempDir();
    const t = await startTestApp({ dir: source, engine: 'postgres', env: key });
    const a = api(t);
    const project = await a.createProject('Many partitions');
    const issue = await a.createIssue(project.id, { name: 'long' });
    for (let i = 0; i < 40; i++) await a.comment(issue.id, `comment ${i}`);
    await t.close();

    const exported = herald(['events', 'export', '--after', '0'], { DATABASE_URL: await testDatabaseUrl(source, 'postgres') });
    expect(exported.status).toBe(0);
    const events = exported.stdout.trim().split('\n');
    expect(events.length).toBeGreaterThan(4 * SPAN);
    for (const line of events) expect(JSON.parse(line)).toHaveProperty('type');
    const file = join(tempDir(), 'log.jsonl');
    writeFileSync(file, exported.stdout);

    const target = tempDir();
    const targetEnv = { DATABASE_URL: await testDatabaseUrl(target, 'postgres'), HERALD_PG_PARTITION_SPAN: String(SPAN) };
    expect(herald(['migrate'], targetEnv).status).toBe(0);
    // one import transaction (up to 500 events) is longer than a partition: the partitions are made before it
    const imported = herald(['events', 'import', file], targetEnv);
    expect(imported.stderr).not.toMatch(/no-partition|503/);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`imported ${events.length} events`));

    const pool = new pg.Pool({ connectionString: targetEnv.DATABASE_URL, max: 1 });
    try {
      const ranges = await new RangePartitions(pool, 'events', 'position').list();
      const head = Number((await pool.query(`SELECT MAX(position) AS p FROM events`)).rows[0].p);
      expect(ranges.length).toBeGreaterThan(events.length / SPAN);
      // still a span ahead of the log, as the service would have left it
      expect(ranges[ranges.length - 1].to! - head).toBeGreaterThan(SPAN);
    } finally {
      await pool.end();
    }

    const u = await startTestApp({ dir: target, engine: 'postgres', env: { ...key, HERALD_PG_PARTITION_SPAN: String(SPAN) } });
    try {
      const comments = (await api(u).get(`/api/issues/${issue.id}/comments`)) as { content: string }[];
      expect(comments.map((c) => c.content)).toEqual(Array.from({ length: 40 }, (_, i) => `comment ${i}`));
    } finally {
      await u.close();
    }
  });
});
