/**
 * What the log and the delivery tables take on PostgreSQL, per row, indexes and TOAST included (docs/scale.md):
 * `npm run build && node dist/bench/pg-sizes.js`. Not a row of the table: sizes are properties of the schema and
 * of the rows' shapes, not of the machine, and docs/scale.md computes growth from them.
 *
 * - The log: bench/big-log.ts's events (an issue's life as the deciders decide it, 100 events an issue), written raw.
 * - Deliveries and attempts: made by Herald itself, in process with its background workers on: Custom webhooks
 *   (their request is the whole activity: the largest body) subscribed to every issue activity, issues created
 *   with big-log's description and commented on, every delivery sent to a local receiver and recorded, one
 *   attempt each. Measured as they stand (the claim's and the record's updates leave dead row versions until a
 *   vacuum), and after VACUUM FULL (the live rows alone, packed).
 *
 * PostgreSQL: DATABASE_URL_POSTGRES when set (a user who may CREATE DATABASE), else an embedded one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { writeBigLog } from './big-log.js';
import { fmt, withClient, withDatabase } from './instance-round.js';
import { startReceiver } from './receiver-process.js';
import { LOCAL } from './webhooks.js';

const TOKEN = 'bench-admin-token-0123456789';
const LOG_ISSUES = 1000; // × 100 events
const WEBHOOKS = 10;
const ISSUES = 200;
const COMMENTS = 5;
const ACTIVITIES = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.status.update', 'bb.issue.field.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Size {
  table: string;
  rows: number;
  heap: number;
  toast: number;
  indexes: number;
  total: number;
}

async function sizeOf(db: pg.Client, table: string): Promise<Size> {
  // a partitioned table holds nothing itself: its partitions' sizes (pg_partition_tree gives a plain table alone)
  const { rows } = await db.query<{ rows: string; heap: string; toast: string; indexes: string; total: string }>(
    `SELECT (SELECT COUNT(*) FROM ${db.escapeIdentifier(table)}) AS rows,
            SUM(pg_relation_size(relid)) AS heap,
            SUM(pg_table_size(relid) - pg_relation_size(relid)) AS toast,
            SUM(pg_indexes_size(relid)) AS indexes,
            SUM(pg_total_relation_size(relid)) AS total
     FROM pg_partition_tree($1::regclass) WHERE isleaf`,
    [table],
  );
  const r = rows[0];
  return { table, rows: Number(r.rows), heap: Number(r.heap), toast: Number(r.toast), indexes: Number(r.indexes), total: Number(r.total) };
}

function line(size: Size, label: string): string {
  const per = (bytes: number) => fmt(bytes / size.rows);
  return `${size.table} (${label}): ${fmt(size.rows)} rows, ${per(size.total)} bytes a row in all: heap ${per(size.heap)}, TOAST and maps ${per(size.toast)}, indexes ${per(size.indexes)}`;
}

async function logSizes(url: string): Promise<string[]> {
  const log = await writeBigLog({ kind: 'postgres', url, poolSize: 2 }, LOG_ISSUES);
  return withClient(url, async (db) => {
    await db.query('VACUUM ANALYZE events');
    const indexes = await db.query<{ name: string; bytes: string }>(
      // an index of a partitioned table: its partitions' indexes
      `SELECT i.indexrelid::regclass::text AS name, SUM(pg_relation_size(t.relid)) AS bytes
       FROM pg_index i, pg_partition_tree(i.indexrelid) t WHERE i.indrelid = 'events'::regclass AND t.isleaf GROUP BY 1 ORDER BY 1`,
    );
    const size = await sizeOf(db, 'events');
    const each = indexes.rows.map((r) => `${r.name} ${fmt(Number(r.bytes) / size.rows)}`).join(', ');
    return [`${line(size, `${fmt(log.events)} big-log events written raw, vacuumed`)}; by index: ${each}`];
  });
}

async function deliverySizes(url: string): Promise<string[]> {
  const receiver = await startReceiver();
  const cwd = mkdtempSync(join(tmpdir(), 'herald-bench-sizes-'));
  const env = { ...LOCAL, DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_SECRET_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'error' };
  const { app } = await createApp(loadConfig(env, cwd));
  const expected = WEBHOOKS * ISSUES * (1 + COMMENTS);
  // closed once all is delivered, before the tables are measured (its dispatcher's updates are done by then)
  let open = true;
  const close = async () => {
    if (open) await app.close();
    open = false;
  };
  try {
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as { port: number }).port;
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 10 });
    const call = async (path: string, body: unknown) => {
      const res = await pool.request({ path, method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.body.json()) as { id: number };
      if (res.statusCode !== 201) throw new Error(`POST ${path} → ${res.statusCode} ${JSON.stringify(json)}`);
      return json;
    };
    const project = await call('/api/projects', { name: 'Sizes' });
    for (let w = 0; w < WEBHOOKS; w++) {
      await call(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: `sink ${w}`, url: `http://127.0.0.1:${receiver.port}/hook/${w}`, activityTypes: ACTIVITIES });
    }
    const description = 'Queries by customer scan the whole table. '.repeat(4); // big-log's
    for (let i = 0; i < ISSUES; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const issue = await call(`/api/projects/${project.id}/issues`, { name: `Add an index on orders.customer_id ${i + k}`, type: 'bb.issue.database.schema.update', description });
          for (let c = 0; c < COMMENTS; c++) await call(`/api/issues/${issue.id}/comments`, { content: `Looks good to me, the plan shows an index scan now (${c}).` });
        }),
      );
    }
    await pool.close();
    return await withClient(url, async (db) => {
      for (let waited = 0; ; waited += 200) {
        const { rows } = await db.query<{ all: string; delivered: string }>(`SELECT COUNT(*) AS all, COUNT(*) FILTER (WHERE status = 'DELIVERED') AS delivered FROM webhook_deliveries`);
        if (Number(rows[0].all) === expected && Number(rows[0].delivered) === expected) break;
        if (waited > 300_000) throw new Error(`${rows[0].delivered} of ${expected} deliveries delivered (${rows[0].all} made) after 5 minutes`);
        await sleep(200);
      }
      await close();
      const asWritten = [await sizeOf(db, 'webhook_deliveries'), await sizeOf(db, 'webhook_delivery_attempts')];
      await db.query('VACUUM FULL webhook_deliveries');
      await db.query('VACUUM FULL webhook_delivery_attempts');
      const packed = [await sizeOf(db, 'webhook_deliveries'), await sizeOf(db, 'webhook_delivery_attempts')];
      const lengths = await db.query<{ activity: string; request: string; response: string }>(
        `SELECT (SELECT AVG(octet_length(activity)) FROM webhook_deliveries) AS activity,
                (SELECT AVG(octet_length(request)) FROM webhook_delivery_attempts) AS request,
                (SELECT AVG(octet_length(response)) FROM webhook_delivery_attempts) AS response`,
      );
      const l = lengths.rows[0];
      return [
        ...asWritten.map((s) => line(s, 'delivered, as they stand')),
        ...packed.map((s) => line(s, 'after VACUUM FULL')),
        `mean text lengths: activity ${fmt(Number(l.activity))} bytes, request ${fmt(Number(l.request))}, response ${fmt(Number(l.response))} (before compression)`,
      ];
    });
  } finally {
    await close().catch(() => undefined);
    receiver.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
}

const given = process.env.DATABASE_URL_POSTGRES;
const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-sizes');
const names = [`herald_bench_log_${randomBytes(3).toString('hex')}`, `herald_bench_deliveries_${randomBytes(3).toString('hex')}`];
try {
  for (const name of names) await withClient(server.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const lines = [...(await logSizes(withDatabase(server.url, names[0]))), ...(await deliverySizes(withDatabase(server.url, names[1])))];
  const version = await withClient(server.url, async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v);
  console.log(`PostgreSQL ${version}\n${lines.map((l) => `- ${l}`).join('\n')}`);
} finally {
  for (const name of names) await withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).catch(() => undefined);
  await server.stop();
}
process.exit(0);
