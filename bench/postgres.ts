/**
 * PostgreSQL append benchmark: Herald's PostgresEventStore against raw `pg` inserts of
 * the same rows into an identical events table (a second database migrated the same
 * way: partitioned by position, each insert moving its stream's row of stream_heads in
 * the same statement, as Herald's append does), one transaction each (1 client, then 8 concurrently) and 100 rows per
 * transaction. Runs on DATABASE_URL_POSTGRES (a URL of a server where this user may
 * CREATE DATABASE) if set, else on an embedded PostgreSQL started like the tests' but
 * with the server's default durability (fsync, synchronous_commit, full_page_writes on).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { openDataSource, pgPool } from '../src/database/data-source.js';
import { AggregateStore } from '../src/event-store/aggregate-store.js';
import { PostgresEventStore } from '../src/event-store/postgres-event-store.js';
import { decideIssue } from '../src/issues/issue.decider.js';
import { initialIssueState } from '../src/issues/issue.state.js';
import { issueAggregate } from '../src/issues/issue.projection.js';
import { systemClock } from '../src/shared/clock.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import type { Row } from './webhooks.js';

const N = 2000;
const CONCURRENCY = 8;
const BATCH = 100;
const BATCHED_EVENTS = 20_000;
const WARM_UP = 100;
const meta = { actorId: 2, correlationId: 'bench' };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Events per second of `count` events written by `run`. */
async function rate(count: number, run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return count / ((performance.now() - start) / 1000);
}

/** `workers` loops at once, each writing its share of `count` in steps of `step`. */
function concurrently(workers: number, count: number, step: number, write: (worker: number, i: number) => Promise<void>): Promise<void> {
  return Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; i < count / workers; i += step) await write(worker, i);
    }),
  ).then(() => undefined);
}

/** One issue.field-updated event, as Herald stores it (the raw side writes the same row). */
const fieldUpdate = (issueId: number, i: number) => ({
  type: 'issue.field-updated' as const,
  schemaVersion: 2 as const,
  data: { issueId, projectId: 1, field: 'description' as const, from: `d${i - 1}`, to: `d${i}` },
});

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'herald-bench' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabases(adminUrl: string, names: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'herald-bench' });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The raw side: the same rows, straight INSERTs in BEGIN ... COMMIT, on a pool of CONCURRENCY clients. */
class RawWriter {
  private readonly versions = new Map<string, number>();
  private readonly metadata = JSON.stringify({ ...meta, causationId: null });

  constructor(private readonly pool: pg.Pool) {}

  /** One transaction inserting `count` events of one stream (one multi-row INSERT, as Herald's append does). */
  async transaction(issueId: number, count: number): Promise<void> {
    const streamId = `issue-${issueId}`;
    const from = this.versions.get(streamId) ?? 0;
    this.versions.set(streamId, from + count);
    const values: unknown[] = [];
    const rows: string[] = [];
    const at = new Date().toISOString();
    for (let k = 1; k <= count; k++) {
      const event = fieldUpdate(issueId, from + k);
      const b = values.length;
      values.push(randomUUID(), streamId, from + k, event.type, event.schemaVersion, JSON.stringify(event.data), this.metadata, at);
      rows.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::jsonb, $${b + 7}::jsonb, $${b + 8})`);
    }
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      // the stream's head moved in the insert's statement, as Herald's append does (the log is partitioned: stream_heads
      // is what refuses a second append of a version); no expected-version check, no upcasting, no read
      values.push(streamId, from + count);
      const head = `$${values.length - 1}`;
      await c.query(
        `WITH head AS (
           INSERT INTO stream_heads (stream_id, version) VALUES (${head}, $${values.length}::integer)
           ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version
         )
         INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ${rows.join(', ')}`,
        values,
      );
      await c.query('COMMIT');
    } catch (error) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      c.release();
    }
  }
}

export async function postgresAppends(): Promise<Row[]> {
  const given = process.env.DATABASE_URL_POSTGRES;
  const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench', { durable: true });
  const suffix = randomBytes(4).toString('hex');
  const names = [`herald_bench_${suffix}`, `herald_bench_raw_${suffix}`];
  const sources: DataSource[] = [];
  let rawPool: pg.Pool | undefined;
  try {
    const [heraldUrl, rawUrl] = [await createDatabase(server.url, names[0]), await createDatabase(server.url, names[1])];
    // both databases get Herald's schema: the raw side writes the very same events table
    const ds = await openDataSource({ kind: 'postgres', url: heraldUrl, poolSize: CONCURRENCY });
    sources.push(ds);
    sources.push(await openDataSource({ kind: 'postgres', url: rawUrl, poolSize: 1 }));
    const settings = (await ds.query(`SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc`)) as {
      version: string;
      fsync: string;
      sc: string;
    }[];
    const store = new PostgresEventStore(pgPool(ds), systemClock);
    const issues = new AggregateStore(issueAggregate, store);
    rawPool = new pg.Pool({ connectionString: rawUrl, max: CONCURRENCY, application_name: 'herald-bench-raw' });
    const raw = new RawWriter(rawPool);

    // one issue per concurrent stream (the sequential run uses the first)
    const ids: number[] = [];
    for (let n = 0; n < CONCURRENCY; n++) {
      const { id } = await issues.create({ ids: { issue: 1 }, idSequence: 'issue', metadata: meta }, ({ now, ids: allocated }) =>
        decideIssue(
          { kind: 'CreateIssue', issueId: allocated.issue[0], projectId: 1, name: `bench ${n}`, type: 'bb.issue.general', description: '', assigneeId: null, pipeline: { stages: [] } },
          initialIssueState,
          { now, actorId: 2 },
        ),
      );
      ids.push(id);
    }
    const command = (id: number, i: number) =>
      issues.update(id, { metadata: meta }, (s) => [{ ...fieldUpdate(id, i), data: { ...fieldUpdate(id, i).data, from: s.description } }]).then(() => undefined);
    let batchVersion = 0;
    const heraldBatch = async () => {
      const events = Array.from({ length: BATCH }, (_, k) => fieldUpdate(0, batchVersion + k + 1));
      await store.transact(async (tx) => {
        await tx.lockStream('issue-0');
        await tx.append('issue-0', batchVersion, events, { metadata: { ...meta, causationId: null } });
      });
      batchVersion += BATCH;
    };

    // warm-up (connections, plans, the JIT) of every path, not measured
    await concurrently(CONCURRENCY, WARM_UP, 1, (w, i) => command(ids[w], i));
    await concurrently(CONCURRENCY, WARM_UP, 1, (w) => raw.transaction(ids[w], 1));
    for (let i = 0; i < 5; i++) await heraldBatch();
    for (let i = 0; i < 5; i++) await raw.transaction(0, BATCH);

    // Herald and raw alternate, so a slower phase of a shared machine hits both
    const heraldSequential = await rate(N, async () => {
      for (let i = 0; i < N; i++) await command(ids[0], i);
    });
    const rawSequential = await rate(N, async () => {
      for (let i = 0; i < N; i++) await raw.transaction(ids[0], 1);
    });
    const heraldConcurrent = await rate(N, () => concurrently(CONCURRENCY, N, 1, (w, i) => command(ids[w], i)));
    const rawConcurrent = await rate(N, () => concurrently(CONCURRENCY, N, 1, (w) => raw.transaction(ids[w], 1)));
    const heraldBatched = await rate(BATCHED_EVENTS, async () => {
      for (let i = 0; i < BATCHED_EVENTS / BATCH; i++) await heraldBatch();
    });
    const rawBatched = await rate(BATCHED_EVENTS, async () => {
      for (let i = 0; i < BATCHED_EVENTS / BATCH; i++) await raw.transaction(0, BATCH);
    });

    // what one statement costs on this connection, for the notes: the median of SELECT 1 round trips
    const trips: number[] = [];
    for (let i = 0; i < 500; i++) {
      const start = performance.now();
      await rawPool.query('SELECT 1');
      trips.push(performance.now() - start);
    }
    const roundTrip = trips.sort((a, b) => a - b)[trips.length >> 1];

    const { version, fsync, sc } = settings[0];
    const where = given ? 'DATABASE_URL_POSTGRES' : 'embedded';
    return [
      {
        name: '(f) PostgreSQL single-event commands, one at a time (events/s)',
        herald: fmt(heraldSequential),
        baseline: `${fmt(rawSequential)} raw pg INSERT transactions, 1 client`,
        ratio: heraldSequential / rawSequential,
        target: 0.5,
        note: `PostgreSQL ${version.split(' ')[0]} (${where}, loopback TCP), fsync=${fsync}, synchronous_commit=${sc}; ${N} commands (AggregateStore.update, one transaction each) vs ${N} BEGIN/INSERT/COMMIT of the same rows into an identical events table (partitioned, the stream's head moved in the INSERT's statement); a round trip (SELECT 1) took ${roundTrip.toFixed(2)} ms (median)`,
      },
      {
        name: `(f) PostgreSQL single-event commands, ${CONCURRENCY} streams at once (events/s)`,
        herald: fmt(heraldConcurrent),
        baseline: `${fmt(rawConcurrent)} raw pg INSERT transactions, ${CONCURRENCY} clients`,
        ratio: heraldConcurrent / rawConcurrent,
        target: 0.5,
        note: `${N} in all, ${N / CONCURRENCY} per stream; a pool of ${CONCURRENCY} connections on each side`,
      },
      {
        name: `(f) PostgreSQL ${BATCH}-event transactions (events/s)`,
        herald: fmt(heraldBatched),
        baseline: `${fmt(rawBatched)} raw pg ${BATCH}-row INSERT transactions`,
        ratio: heraldBatched / rawBatched,
        target: 0.5,
        note: `${BATCHED_EVENTS} events, one at a time; Herald: one transact (lockStream + append of ${BATCH}) each`,
      },
    ];
  } finally {
    await rawPool?.end();
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    await dropDatabases(server.url, names).catch(() => undefined);
    await server.stop();
  }
}
