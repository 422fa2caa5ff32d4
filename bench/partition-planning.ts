/**
 * What the hot statements cost on PostgreSQL as the partitions grow (issue 26, docs/scale.md section 3):
 * `npm run build && node dist/bench/partition-planning.js [runs]` (300 runs per statement by default).
 * Not a row of the table: it compares the same statements at 1, 3, 10, 30 and 100 ranges on one machine.
 *
 * One database, span 2,000 positions. At each level the log and the deliveries get that many ranges (made by
 * RangePartitions.extendPast, as the keeper does), filler events up to the last range's start, one stream of 20
 * events there (appended through the store: its head is made as every command's is), and per range 20 delivered
 * deliveries with an attempt, plus 200 due ones of 5 webhooks in the last range. Then, each the median of `runs`
 * calls, client side (a round trip included):
 * - a command's stream read after version 10 (what the aggregate store reads past its cached state), through the
 *   store, and the two statement forms side by side: the head's subquery (pruned at run time) and the first
 *   position as a parameter (pruned at plan time); EXPLAIN (ANALYZE, SUMMARY) planning and execution of both;
 * - a replay's read of 128 streams' parts at once (readStreamSpans), a readLog page of 100 (the subscriptions'
 *   read), and one append of one event;
 * - the queue: due() (and its statement prepared: a named statement, planned once per connection), a claim of up
 *   to 50, settleAttempts of what it took, and a release.
 *
 * PostgreSQL: DATABASE_URL_POSTGRES when set (a user who may CREATE DATABASE), else an embedded one.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { openDataSource, pgPool } from '../src/database/data-source.js';
import { RangePartitions } from '../src/database/range-partitions.js';
import { openEventStore } from '../src/domain.js';
import type { Often } from '../src/event-store/event-store.js';
import { toPostgresSql } from '../src/event-store/postgres-sql.js';
import { systemClock } from '../src/shared/clock.js';
import { DeliveryPartitions } from '../src/webhooks/delivery/delivery-partitions.js';
import { ThisInstance } from '../src/webhooks/delivery/instance.js';
import { DeliveryQueue } from '../src/webhooks/delivery/queue.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { withClient, withDatabase } from './instance-round.js';

const RUNS = Number(process.argv[2] ?? 300);
/** `off` as the second argument: HERALD_PG_PREPARED_STATEMENTS=false (every statement planned on each call). */
const PREPARED = process.argv[3] !== 'off';
const SPAN = 2_000;
const LEVELS = [1, 3, 10, 30, 100];
const HOOKS = 5;
const META = { actorId: 1, correlationId: 'bench', causationId: null };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(fn: () => Promise<unknown>, runs = RUNS): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(); // warm: connections opened, caches filled
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

/** Median planning and execution time of EXPLAIN (ANALYZE, SUMMARY) of a statement, and the partitions its plan names. */
async function explained(db: pg.ClientBase | pg.Pool, text: string, values: unknown[], runs = 21): Promise<{ planning: number; execution: number; scans: number }> {
  const planning: number[] = [];
  const execution: number[] = [];
  let scans = 0;
  for (let i = 0; i < runs; i++) {
    const { rows } = await db.query(`EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) ${text}`, values);
    const [plan] = rows[0]['QUERY PLAN'] as { 'Planning Time': number; 'Execution Time': number; Plan: unknown }[];
    planning.push(plan['Planning Time']);
    execution.push(plan['Execution Time']);
    scans = JSON.stringify(plan.Plan).match(/"Relation Name":/g)?.length ?? 0;
  }
  return { planning: median(planning), execution: median(execution), scans };
}

/** On every connection of the pool: the store's prepared statements' generic and custom plans, and the memory their plans hold. */
async function keptOn(pool: pg.Pool, size: number): Promise<string> {
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  try {
    let generic = 0;
    let custom = 0;
    let statements = 0;
    let bytes = 0;
    for (const client of clients) {
      const [s] = (
        await client.query<{ n: number; generic: number; custom: number }>(
          `SELECT COUNT(*)::int AS n, COALESCE(SUM(generic_plans), 0)::int AS generic, COALESCE(SUM(custom_plans), 0)::int AS custom FROM pg_prepared_statements WHERE name LIKE 'herald_%'`,
        )
      ).rows;
      const [m] = (await client.query<{ bytes: number }>(`SELECT COALESCE(SUM(total_bytes), 0)::bigint AS bytes FROM pg_backend_memory_contexts WHERE name LIKE 'CachedPlan%'`)).rows;
      [statements, generic, custom, bytes] = [statements + s.n, generic + s.generic, custom + s.custom, bytes + Number(m.bytes)];
    }
    return `store's named statements on the pool's ${size} connections: ${statements}, ${generic} generic plans, ${custom} custom; cached plans hold ${(bytes / 1024).toFixed(0)} KiB`;
  } finally {
    for (const client of clients) client.release();
  }
}

const given = process.env.DATABASE_URL_POSTGRES;
const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-partition-planning');
const progress = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);
try {
  const name = `herald_planning_${randomBytes(4).toString('hex')}`;
  await withClient(server.url, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(server.url, name);
  const ds = await openDataSource({ kind: 'postgres', url, poolSize: 4, partitionSpan: SPAN, preparedStatements: PREPARED });
  const pool = pgPool(ds);
  const config = loadConfig({ DATABASE_URL: url, HERALD_PG_PARTITION_SPAN: String(SPAN) }, '/tmp');
  const store = openEventStore(ds, systemClock, { listen: false });
  const queue = new DeliveryQueue(store, config, new ThisInstance());
  const log = new RangePartitions(pool, 'events', 'position');
  const deliveryRanges = new DeliveryPartitions(ds, config);
  const ranges = async (table: string) => (await new RangePartitions(pool, table, table === 'events' ? 'position' : 'event_position').list()).length;
  // the queue's statements as the store sends them, to EXPLAIN them as they are
  const sent: { sql: string; params: unknown[] }[] = [];
  const query = store.query.bind(store);
  store.query = (sql: string, params: unknown[] = [], often?: Often) => {
    sent.push({ sql, params });
    return query(sql, params, often);
  };

  const kept = () => keptOn(pool, 4);
  const lines: string[] = [];
  let streamNo = 0;
  for (const level of LEVELS) {
    progress(`${level} ranges: preparing`);
    // the ranges (the first from 1: the migration's), the log filled up to the last one's start
    await log.extendPast((level - 1) * SPAN + 1, SPAN);
    await deliveryRanges.extendPast((level - 1) * SPAN + 1);
    const head = await store.head();
    const fillTo = (level - 1) * SPAN + 1;
    if (fillTo > head + 1) {
      await pool.query(
        `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
         SELECT 'filler-' || i, 'filler-' || (i / 100), i % 100 + 1, 'issue.created', 1, '{}', '{}', now()::text FROM generate_series($1::bigint, $2::bigint) i`,
        [head + 1, fillTo - 1],
      );
    }
    // one stream in the last range, as a command makes it
    const stream = `bench-${++streamNo}`;
    await store.transact((tx) => tx.append(stream, 0, Array.from({ length: 20 }, () => ({ type: 'bench.happened', schemaVersion: 1, data: { n: 1 } })), { metadata: META }));
    // deliveries: 20 delivered (with an attempt) per range; 200 due of 5 webhooks in the last range
    await pool.query(`DELETE FROM webhook_delivery_attempts; DELETE FROM webhook_deliveries`);
    const now = Date.now();
    await pool.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, attempt_count, next_attempt_at, created_at, updated_at)
       SELECT 'old-' || r || '-' || i, 1 + i % ${HOOKS}, 1, r * ${SPAN} + 1 + i, NULL, 'bb.issue.create', '{}', 'DELIVERED', 1, $1, $1, $1
       FROM generate_series(0, $2::integer - 1) r, generate_series(0, 19) i`,
      [now - 60_000, level],
    );
    await pool.query(
      `INSERT INTO webhook_delivery_attempts (delivery_id, event_position, number, started_at, duration_ms, request, response, verdict)
       SELECT id, event_position, 1, $1, 5, '{}', '{}', '{"kind":"delivered"}' FROM webhook_deliveries`,
      [now - 60_000],
    );
    await pool.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, attempt_count, next_attempt_at, created_at, updated_at)
       SELECT 'due-' || i, 1 + i % ${HOOKS}, 1, $2::bigint + i, NULL, 'bb.issue.create', '{}', 'PENDING', 0, $1, $1, $1 FROM generate_series(100, 299) i`,
      [now - 1_000, (level - 1) * SPAN + 1],
    );
    await pool.query(`ANALYZE`);
    const counts = { events: await ranges('events'), deliveries: await ranges('webhook_deliveries') };

    progress(`${level} ranges: measuring`);
    const row = (what: string, ms: number, extra = '') => lines.push(`| ${counts.events} / ${counts.deliveries} | ${what} | ${ms.toFixed(3)} ms | ${extra} |`);
    const firstPosition = (await pool.query<{ p: number }>(`SELECT first_position AS p FROM stream_heads WHERE stream_id = $1`, [stream])).rows[0].p;
    const cols = `position, event_id, stream_id, version, type, schema_version, data, metadata, occurred_at, transaction_id::text AS transaction_id`;
    const bySubquery = `SELECT ${cols} FROM events WHERE stream_id = $1 AND version > $2 AND position >= COALESCE((SELECT first_position FROM stream_heads WHERE stream_id = $1), 0) ORDER BY version LIMIT $3`;
    const byParameter = `SELECT ${cols} FROM events WHERE stream_id = $1 AND version > $2 AND position >= $4 ORDER BY version LIMIT $3`;
    const plan = async (text: string, values: unknown[]) => {
      const e = await explained(pool, text, values);
      return `planning ${e.planning.toFixed(3)} ms, execution ${e.execution.toFixed(3)} ms, ${e.scans} relations in the plan`;
    };
    row('stream read through the store (after version 10)', await timed(() => store.readStream(stream, 10)));
    row('stream read, head subquery (before)', await timed(() => pool.query(bySubquery, [stream, 10, null])), await plan(bySubquery, [stream, 10, null]));
    row('stream read, first position a parameter (after)', await timed(() => pool.query(byParameter, [stream, 10, null, firstPosition])), await plan(byParameter, [stream, 10, null, firstPosition]));
    // a replay's send reads 128 streams' parts at once: the stream above and 127 more, each 2 events, in the last range,
    // half of them after their first event (so the terms are not all alike but for their stream)
    await store.transact(async (tx) => {
      for (let i = 0; i < 127; i++) await tx.append(`bench-spans-${level}-${i}`, 0, [0, 1].map((n) => ({ type: 'bench.happened', schemaVersion: 1, data: { n } })), { metadata: META });
    });
    const spans = [stream, ...Array.from({ length: 127 }, (_, i) => `bench-spans-${level}-${i}`)].map((streamId, i) => ({ streamId, afterVersion: i % 2, most: 2, toPosition: Number.MAX_SAFE_INTEGER }));
    sent.length = 0;
    row('readStreamSpans, 128 streams of the last range', await timed(() => store.readStreamSpans(spans), Math.ceil(RUNS / 3)));
    const spansRead = sent.find((q) => /^SELECT \* FROM events WHERE \(+stream_id/.test(q.sql))!;
    lines[lines.length - 1] = lines[lines.length - 1].replace(/ \|$/, `${await plan(toPostgresSql(spansRead.sql), spansRead.params)} |`);
    if (process.env.BENCH_PLAN) console.error((await pool.query(`EXPLAIN ANALYZE ${toPostgresSql(spansRead.sql)}`, spansRead.params)).rows.map((r) => r['QUERY PLAN']).slice(0, 30).join('\n'));
    const cursor = { transactionId: '0', position: 0 };
    const page = (await store.readLog(cursor, 1)).cursor;
    row('readLog page of 100', await timed(() => store.readLog(page, 100)));
    let version = 20;
    row('append one event', await timed(() => store.transact((tx) => tx.append(stream, version++, [{ type: 'bench.happened', schemaVersion: 1, data: { n: 1 } }], { metadata: META }))));

    sent.length = 0;
    const no = async () => false;
    row('queue: due()', await timed(() => queue.due(Date.now(), no)));
    const due = sent[sent.length - 1];
    const dueSql = toPostgresSql(due.sql);
    const dueParams = due.params;
    lines[lines.length - 1] = lines[lines.length - 1].replace(/ \|$/, `${await plan(dueSql, dueParams)} |`);
    // the same statement named: parsed and planned once per connection, then a generic plan (on a connection of its
    // own: the pool's hold the store's named statements only, whose plans' memory is reported with the claim)
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      row('queue: due() prepared (named statement)', await timed(() => client.query({ name: 'bench_due', text: dueSql, values: dueParams })));
      await client.query(`PREPARE bench_due_sql AS ${dueSql}`);
      for (let i = 0; i < 6; i++) await client.query(`EXECUTE bench_due_sql`);
      const e = await explained(client, `EXECUTE bench_due_sql`, []);
      const [{ generic, custom }] = (await client.query(`SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE name = 'bench_due_sql'`)).rows;
      lines.push(`| ${counts.events} / ${counts.deliveries} | EXPLAIN EXECUTE of due() prepared | | planning ${e.planning.toFixed(3)} ms, execution ${e.execution.toFixed(3)} ms; ${generic} generic plans, ${custom} custom |`);
    } finally {
      await client.end();
    }
    const claims: number[] = [];
    const settles: number[] = [];
    const releases: number[] = [];
    for (let i = 0; i < Math.ceil(RUNS / 3); i++) {
      const hook = 1 + (i % HOOKS);
      let started = performance.now();
      const taken = await queue.claim(hook, false);
      claims.push(performance.now() - started);
      started = performance.now();
      await store.transact((tx) =>
        queue.settleAttempts(
          tx,
          taken.map((d) => ({ id: d.id, eventPosition: d.event_position, status: 'PENDING', attemptCount: 0, nextAttemptAt: Date.now() - 1_000, lastError: null })),
          Date.now(),
        ),
      );
      settles.push(performance.now() - started);
      const again = await queue.claim(hook, false);
      started = performance.now();
      await queue.release(again);
      releases.push(performance.now() - started);
    }
    row('queue: claim (up to 50 of 40 due)', median(claims), await kept());
    row('queue: settleAttempts (40)', median(settles));
    row('queue: release (40)', median(releases));
  }
  console.log(`\nHot statements on PostgreSQL by the number of ranges (span ${SPAN}; medians of ${RUNS} calls, a round trip included; prepared statements ${PREPARED ? 'on' : 'off'}):\n`);
  console.log('| ranges (log / deliveries) | statement | median | EXPLAIN (ANALYZE, SUMMARY), medians of 21 |');
  console.log('|---|---|---|---|');
  for (const line of lines) console.log(line);
  await ds.destroy();
} finally {
  await server.stop();
}
