/**
 * Deliveries per second with 1, 2 and 3 Herald instances on one PostgreSQL database
 * (issue 4): how delivery scales across processes on this machine.
 *
 * Method, per round (a fresh database each): an in-process Herald with its background
 * workers off creates a project, 50 Custom webhooks and 100 issues, and runs the webhook
 * subscription once: 5,000 deliveries are queued, none sent. Their next attempt is set
 * an hour ahead, then N Herald processes (the built dist/src/main.js) start on the
 * database; once all listen, every delivery is made due at one instant T a moment later
 * (each dispatcher, polling at most every second, has armed its timer for T by then), so
 * all N start together. Measured: T → the receiver (a separate process answering 200 at
 * once, as in the SQLite benchmark (e)) has had all 5,000, each counted once by its
 * webhook-id (one sent twice is reported, not counted for another). The queue is full from the
 * start, so this is the dispatchers alone, as (e) measures one.
 *
 * PostgreSQL: DATABASE_URL_POSTGRES when set (a user who may CREATE DATABASE), else an
 * embedded one started like the tests' (test/support/postgres-global-setup.ts) but with
 * the server's default durability (fsync, synchronous_commit, full_page_writes on).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { WebhookSubscription } from '../src/webhooks/subscription/webhook-subscription.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { startReceiver } from './receiver-process.js';
import type { Row } from './webhooks.js';

const TOKEN = 'bench-admin-token-0123456789';
const LOCAL = { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_EXTRA_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
const WEBHOOKS = 50;
const ISSUES = 100;
const TOTAL = WEBHOOKS * ISSUES;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface BenchPostgres {
  /** Admin URL (a user who may CREATE DATABASE). */
  url: string;
  stop(): Promise<void>;
}

async function admin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A Herald process: the built service, started like `npm start`, in a folder of its own. */
class Instance {
  private child: ChildProcess | null = null;
  private readonly cwd = mkdtempSync(join(tmpdir(), 'herald-bench-instance-'));
  private port = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.js')], {
      cwd: this.cwd,
      env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a Herald instance did not start:\n${output}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const listening = /listening on\s+http:\/\/[^:]+:(\d+)/.exec(output);
        if (listening) {
          this.port = Number(listening[1]);
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`a Herald instance exited with ${code} before listening:\n${output}`));
      });
    });
  }

  /** Statements this instance has sent to PostgreSQL so far (each a round trip), from its /metrics. */
  async roundTrips(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const match = /^herald_database_round_trips_total (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
    if (!match) throw new Error('herald_database_round_trips_total is missing from /metrics');
    return Number(match[1]);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/** Queues TOTAL deliveries on a fresh database (nothing sent: background workers off), through an in-process Herald. */
async function fill(env: NodeJS.ProcessEnv, receiverPort: number): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), 'herald-bench-fill-'));
  const { app } = await createApp(loadConfig({ ...env, HERALD_BACKGROUND_WORKERS: 'false', LOG_LEVEL: 'error' }, cwd));
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
    const project = await call('/api/projects', { name: 'Instances' });
    for (let w = 0; w < WEBHOOKS; w++) {
      await call(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: `sink ${w}`, url: `http://127.0.0.1:${receiverPort}/hook/${w}`, activityTypes: ['bb.issue.create'] });
    }
    for (let i = 0; i < ISSUES; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, ISSUES - i) }, (_, k) => call(`/api/projects/${project.id}/issues`, { name: `i ${i + k}`, type: 'bb.issue.general' })));
    }
    await pool.close();
    await app.get(WebhookSubscription).catchUp();
  } finally {
    await app.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** One round: N instances on a fresh database with TOTAL deliveries queued; deliveries/s from the moment all are due. */
async function round(server: BenchPostgres, n: number): Promise<{ rate: number; ms: number; received: number; roundTrips: number; request: SentRequest }> {
  const name = `herald_bench_instances_${n}_${randomBytes(3).toString('hex')}`;
  await admin(server.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = withDatabase(server.url, name);
  const receiver = await startReceiver();
  const instances: Instance[] = [];
  const db = new pg.Client({ connectionString: url });
  try {
    // instances on one database share the key that seals webhook URLs
    const env = { ...LOCAL, DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
    await fill(env, receiver.port);
    await db.connect();
    const queued = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'PENDING'`);
    if (Number(queued.rows[0].n) !== TOTAL) throw new Error(`expected ${TOTAL} queued deliveries, found ${queued.rows[0].n}`);
    await db.query(`UPDATE webhook_deliveries SET next_attempt_at = $1`, [Date.now() + 3_600_000]);

    for (let i = 0; i < n; i++) instances.push(new Instance(env));
    await Promise.all(instances.map((instance) => instance.start()));
    const trips = async () => (await Promise.all(instances.map((instance) => instance.roundTrips()))).reduce((a, b) => a + b, 0);
    const tripsBefore = await trips();
    // every dispatcher looks at the queue at least once a second: by T each has armed its timer for T
    const t = Date.now() + 1500;
    await db.query(`UPDATE webhook_deliveries SET next_attempt_at = $1`, [t]);
    receiver.reset();
    const deadline = t + 180_000;
    // every delivery once: a request sent twice does not stand in for one not sent yet
    while (receiver.deliveries < TOTAL) {
      if (Date.now() > deadline) throw new Error(`${n} instance(s): only ${receiver.deliveries} of ${TOTAL} deliveries arrived in time`);
      await sleep(2);
    }
    const ms = Date.now() - t;
    // every delivery is recorded as delivered (the last records commit just after their request)
    for (let i = 0; ; i++) {
      const { rows } = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'DELIVERED'`);
      if (Number(rows[0].n) === TOTAL) break;
      if (i > 100) throw new Error(`${n} instance(s): ${rows[0].n} of ${TOTAL} deliveries recorded as delivered`);
      await sleep(50);
    }
    // one request as Herald sent it (body and headers, the signature included): the raw loop sends the same bytes
    const sent = await db.query<{ request: SentRequest }>(`SELECT request FROM webhook_delivery_attempts ORDER BY delivery_id LIMIT 1`);
    const request = typeof sent.rows[0].request === 'string' ? (JSON.parse(sent.rows[0].request) as SentRequest) : sent.rows[0].request;
    return { rate: TOTAL / (ms / 1000), ms, received: receiver.requests, roundTrips: ((await trips()) - tripsBefore) / TOTAL, request };
  } finally {
    await Promise.allSettled(instances.map((instance) => instance.stop()));
    await db.end().catch(() => undefined);
    receiver.stop();
    await admin(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
  }
}

interface SentRequest {
  headers: Record<string, string>;
  body: string;
}

/** The same POSTs, raw, one loop per webhook (concurrency 50), as the baseline of the 1-instance row. */
async function rawRate({ headers, body }: SentRequest): Promise<number> {
  const receiver = await startReceiver();
  const raw = new Pool(`http://127.0.0.1:${receiver.port}`, { connections: WEBHOOKS });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WEBHOOKS }, async (_, w) => {
      for (let i = 0; i < ISSUES; i++) {
        const res = await raw.request({ path: `/hook/${w}`, method: 'POST', headers, body });
        await res.body.text();
      }
    }),
  );
  const rate = TOTAL / ((performance.now() - start) / 1000);
  await raw.close();
  receiver.stop();
  return rate;
}

export async function instances(): Promise<Row[]> {
  const given = process.env.DATABASE_URL_POSTGRES;
  const server: BenchPostgres = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-instances', { durable: true });
  try {
    const results: { n: number; rate: number; ms: number; received: number; roundTrips: number; request: SentRequest }[] = [];
    for (const n of [1, 2, 3]) results.push({ n, ...(await round(server, n)) });
    const raw = await rawRate(results[0].request);
    const one = results[0];
    const twice = (r: { received: number }) => (r.received > TOTAL ? ` (${r.received - TOTAL} sent twice)` : '');
    const trips = (r: { roundTrips: number }) => `${r.roundTrips.toFixed(2)} round trips per delivery`;
    return [
      {
        name: `(g) PostgreSQL deliveries/s, 1 instance, ${WEBHOOKS} webhooks (${TOTAL} deliveries)`,
        herald: `${fmt(one.rate)} (${trips(one)})${twice(one)}`,
        baseline: `${fmt(raw)} raw undici POSTs of the same request (${results[0].request.body.length} bytes), concurrency ${WEBHOOKS}`,
        ratio: one.rate / raw,
        target: 0.3,
        note:
          'queue filled first, then every delivery made due at one instant; durable PostgreSQL (fsync on) on the same machine, default pool (HERALD_PG_POOL_SIZE=10) and WEBHOOK_CONCURRENCY=64. ' +
          'Round trips: every statement the instances sent from just before that instant until every delivery was recorded (herald_database_round_trips_total of each, scraped), divided by the deliveries. ' +
          'A delivery costs its share of a claim of up to 50 (one UPDATE … RETURNING in a transaction: BEGIN with SET LOCAL synchronous_commit, the statement, COMMIT) and of a record transaction ' +
          'for whatever attempts ended meanwhile (BEGIN, the failure runs locked and read, the deliveries updated, the attempts inserted, the runs written, COMMIT); the webhook configuration is in memory',
      },
      {
        name: `(g) PostgreSQL round trips per delivery, 1 instance`,
        herald: one.roundTrips.toFixed(2),
        baseline: 'target at most 3',
        ratio: 3 / one.roundTrips,
        target: 1,
        note: 'ratio column: 3 / round trips per delivery (1 = the target of 3 met exactly)',
      },
      ...results.slice(1).map((r) => ({
        name: `(g) PostgreSQL deliveries/s, ${r.n} instances on one database (${TOTAL} deliveries)`,
        herald: `${fmt(r.rate)} (${trips(r)})${twice(r)}`,
        baseline: `${fmt(one.rate)} with 1 instance (same run)`,
        ratio: r.rate / one.rate,
        target: 1,
        note:
          r.n > 2
            ? 'as with 2 instances; a third process shares the same 2 cores'
            : 'ratio = scaling over one instance (target 1: another instance does not slow delivery down). On 2 cores shared with PostgreSQL and the receiver, another ' +
              'instance adds processes and connections (10 each) rather than CPU; how delivery scales with instances on machines of their own is not measured here',
      })),
    ];
  } finally {
    await server.stop();
  }
}
