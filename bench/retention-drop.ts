/**
 * What removing old deliveries costs on PostgreSQL, the chunked sweep against a partition dropped whole (issue 26,
 * docs/scale.md section 3): `npm run build && node dist/bench/retention-drop.js [deliveries]` (100,000 by default).
 * Not a row of the table: it compares two ways of removing the same rows on one machine.
 *
 * The same rows each time: N events (old), N delivered deliveries of them (old) with one attempt each, shaped as
 * a Custom webhook's (an activity of ~1.2 KB, a recorded request of ~950 bytes and response of ~220: docs/scale.md
 * section 2), all in one partition of N positions, the webhook subscription past them. Then, on a database of its
 * own each:
 * - the chunked sweep: DeliveryRetention's loop (100 deliveries and their attempts a transaction), the partitions
 *   left alone;
 * - the drop: DeliveryPartitions.dropFinished (its checks, then DETACH … CONCURRENTLY and DROP of both tables'
 *   partitions).
 * For each: the wall time, the event loop's longest hold while it ran (monitorEventLoopDelay, 1 ms resolution),
 * the WAL it wrote, and the dead row versions it left for vacuum. And, for scale, what the migration that
 * partitions the tables (1765410000000) takes on the same rows (written before it, test messages aside): the old
 * tables attached as the first range, the attempts rewritten with their delivery's position.
 *
 * PostgreSQL: DATABASE_URL_POSTGRES when set (a user who may CREATE DATABASE), else an embedded one.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config.js';
import { dataSourceOptions, openDataSource } from '../src/database/data-source.js';
import { PartitionedDeliveries1765410000000 } from '../src/database/migrations/1765410000000-partitioned-deliveries.js';
import { migrations } from '../src/database/migrations/index.js';
import { openEventStore } from '../src/domain.js';
import { systemClock } from '../src/shared/clock.js';
import { DeliveryPartitions } from '../src/webhooks/delivery/delivery-partitions.js';
import { DeliveryRetention } from '../src/webhooks/delivery/retention.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { fmt, withClient, withDatabase } from './instance-round.js';

const N = Number(process.argv[2] ?? 100_000);
const DAY = 86_400_000;
const OLD = Date.now() - 30 * DAY;

/** A database with the rows to remove; its DataSource (span N: the rows fill one partition). `upTo`: the migrations before that one only. */
async function prepared(adminUrl: string, upTo?: typeof PartitionedDeliveries1765410000000): Promise<{ ds: DataSource; url: string }> {
  const name = `herald_retention_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(adminUrl, name);
  const ds = upTo
    ? await new DataSource({ ...dataSourceOptions({ kind: 'postgres', url, poolSize: 4, partitionSpan: N }), migrations: migrations.slice(0, migrations.indexOf(upTo)) }).initialize()
    : await openDataSource({ kind: 'postgres', url, poolSize: 4, partitionSpan: N });
  if (upTo) await ds.runMigrations({ transaction: 'each' });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const occurred = new Date(OLD).toISOString();
  await db.query(
    `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
     SELECT 'e-' || i, 'issue-' || (i / 100), i % 100 + 1, 'issue.created', 1, '{}', '{}', $1 FROM generate_series(1, $2) i`,
    [occurred, N],
  );
  await db.query(`INSERT INTO subscription_checkpoints (name, position, transaction_id, updated_at) VALUES ('webhooks', $1, '0', $2)`, [N, occurred]);
  // the next range, as the keeper of partitions makes it ahead of the log
  if (!upTo) await new DeliveryPartitions(ds, loadConfig({ DATABASE_URL: url, HERALD_PG_PARTITION_SPAN: String(N) }, '/tmp')).extendPast(N + 1);
  await db.query(
    `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, attempt_count, next_attempt_at, created_at, updated_at)
     SELECT 'msg_' || md5(i::text), 1 + i % 10, 1, i, i / 100, 'bb.issue.create', repeat('a', 1170), 'DELIVERED', 1, $1, $1, $1 FROM generate_series(1, $2) i`,
    [OLD, N],
  );
  await db.query(
    `INSERT INTO webhook_delivery_attempts (delivery_id, ${upTo ? '' : 'event_position, '}number, started_at, duration_ms, request, response, verdict)
     SELECT 'msg_' || md5(i::text), ${upTo ? '' : 'i, '}1, $1, 5, repeat('r', 947), repeat('s', 220), '{"kind":"delivered"}' FROM generate_series(1, $2) i`,
    [OLD, N],
  );
  for (const table of ['webhook_deliveries', 'webhook_delivery_attempts']) await db.query(`VACUUM ANALYZE ${table}`);
  await db.end();
  return { ds, url };
}

interface Cost {
  removed: number;
  ms: number;
  longestHoldMs: number;
  walBytes: number;
  deadRows: number;
}

async function measure(url: string, remove: () => Promise<number>): Promise<Cost> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const [{ lsn }] = (await db.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  const removed = await remove();
  const ms = performance.now() - started;
  loop.disable();
  const [{ wal }] = (await db.query<{ wal: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS wal`, [lsn])).rows;
  // pg_stat's counters reach the view shortly after the statements that moved them
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [{ dead }] = (
    await db.query<{ dead: string | null }>(
      `SELECT SUM(n_dead_tup) AS dead FROM pg_stat_user_tables WHERE relname LIKE 'webhook_deliver%'`,
    )
  ).rows;
  await db.end();
  return { removed, ms, longestHoldMs: loop.max / 1e6, walBytes: Number(wal), deadRows: Number(dead ?? 0) };
}

const given = process.env.DATABASE_URL_POSTGRES;
const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-retention');
try {
  const config = (url: string) => loadConfig({ DATABASE_URL: url, HERALD_PG_PARTITION_SPAN: String(N) }, '/tmp');
  const before = OLD + DAY;

  const progress = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);
  progress('preparing the rows for the sweep');
  const sweep = await prepared(server.url);
  progress('sweeping');
  // the chunked sweep alone: partitions that drop nothing
  const none = { dropFinished: async () => [] } as unknown as DeliveryPartitions;
  const retention = new DeliveryRetention(openEventStore(sweep.ds, systemClock, { listen: false }), config(sweep.url), systemClock, none);
  const chunked = await measure(sweep.url, () => retention.cleanup());
  await sweep.ds.destroy();

  progress('preparing the rows for the drop');
  const drop = await prepared(server.url);
  progress('dropping');
  const partitions = new DeliveryPartitions(drop.ds, config(drop.url));
  const dropped = await measure(drop.url, async () => (await partitions.dropFinished(before)).reduce((n, r) => n + r.rows, 0));
  await drop.ds.destroy();

  progress('preparing the rows for the migration');
  const unpartitioned = await prepared(server.url, PartitionedDeliveries1765410000000);
  progress('migrating');
  await unpartitioned.ds.destroy();
  const all = new DataSource(dataSourceOptions({ kind: 'postgres', url: unpartitioned.url, poolSize: 4, partitionSpan: N }));
  await all.initialize();
  const migrated = await measure(unpartitioned.url, async () => (await all.runMigrations({ transaction: 'each' })).length);
  await all.destroy();

  const row = (label: string, c: Cost) =>
    `| ${label} | ${fmt(c.removed)} | ${fmt(c.ms)} ms | ${c.longestHoldMs.toFixed(1)} ms | ${fmt(c.walBytes / 1024)} KiB | ${fmt(c.deadRows)} |`;
  console.log(`\nRemoving ${fmt(N)} old deliveries (and one attempt each) on PostgreSQL:\n`);
  console.log('| how | deliveries removed | time | longest loop hold | WAL written | dead rows left |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('chunked sweep (100 a transaction)', chunked));
  console.log(row('partition dropped (DETACH CONCURRENTLY, DROP)', dropped));
  if (migrated.removed !== 1) throw new Error(`expected the one migration to run, not ${migrated.removed}`);
  console.log(`\nThe migration partitioning the tables, on the same ${fmt(N)} deliveries and attempts: ${fmt(migrated.ms)} ms, ${fmt(migrated.walBytes / 1024)} KiB of WAL.`);
} finally {
  await server.stop();
}
