/**
 * One round of (g) (./instances.ts, ./instances-pinned.ts): N Herald processes delivering from one
 * PostgreSQL database, optionally pinned to cores, timed and their CPU counted.
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
import { ALL_CPUS, cpuSeconds, pin, pinTree, postmasterOf, scheduled, treeCpuSeconds, treeWaiting } from './cpus.js';
import { startReceiver } from './receiver-process.js';

const TOKEN = 'bench-admin-token-0123456789';
const LOCAL = { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_EXTRA_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
export const WEBHOOKS = 50;
export const ISSUES = 100;
export const TOTAL = WEBHOOKS * ISSUES;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export interface BenchPostgres {
  /** Admin URL (a user who may CREATE DATABASE). */
  url: string;
  stop(): Promise<void>;
}

/** One connection for `run`, closed after it. */
export async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** The server's URL naming another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A Herald process: the built service, started like `npm start`, in a folder of its own. */
class Instance {
  private child: ChildProcess | null = null;
  private readonly cwd = mkdtempSync(join(tmpdir(), 'herald-bench-instance-'));
  private port = 0;

  /** `cpu`: the cores (a taskset list) it runs on; absent, wherever the OS schedules it. */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cpu?: string,
  ) {}

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<void> {
    const main = join(import.meta.dirname, '..', 'src', 'main.js');
    // taskset execs node in its own process: the pid is the service's, every thread of it on those cores
    const [command, args] = this.cpu === undefined ? [process.execPath, [main]] : ['taskset', ['--cpu-list', this.cpu, process.execPath, main]];
    const child = spawn(command, args, {
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

/** Where a pinned round's processes run (taskset cpu lists). */
export interface Placement {
  /** One list per Herald instance. */
  instances: string[];
  /** PostgreSQL (every process of the server), the receiver and this bench process. */
  rest: string;
}

/** Seconds of CPU used while the deliveries went out (from just before they were made due until all were recorded). */
export interface CpuUsed {
  herald: number;
  postgres: number;
  receiver: number;
  /** The instances' event loops (main threads): running, and waiting for a core while runnable. */
  loopRunning: number;
  loopWaiting: number;
  /** PostgreSQL's live processes, waiting for a core while runnable. */
  postgresWaiting: number;
  /** Seconds of wall time over which they were counted. */
  wall: number;
}

export interface RoundResult {
  rate: number;
  ms: number;
  received: number;
  roundTrips: number;
  cpu: CpuUsed;
  request: SentRequest;
}

/**
 * One round: N instances on a fresh database with TOTAL deliveries queued; deliveries/s from the moment all are due.
 * `n` is a number of instances the OS places, or a Placement pinning them and the rest.
 */
export async function round(server: BenchPostgres, n: number | Placement): Promise<RoundResult> {
  const placement = typeof n === 'number' ? null : n;
  const count = placement ? placement.instances.length : (n as number);
  const name = `herald_bench_instances_${count}_${randomBytes(3).toString('hex')}`;
  await withClient(server.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = withDatabase(server.url, name);
  const receiver = await startReceiver();
  const instances: Instance[] = [];
  const db = new pg.Client({ connectionString: url });
  let postmaster: number | null = null;
  try {
    // instances on one database share the key that seals webhook URLs
    const env = { ...LOCAL, DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
    await fill(env, receiver.port);
    await db.connect();
    const queued = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'PENDING'`);
    if (Number(queued.rows[0].n) !== TOTAL) throw new Error(`expected ${TOTAL} queued deliveries, found ${queued.rows[0].n}`);
    await db.query(`UPDATE webhook_deliveries SET next_attempt_at = $1`, [Date.now() + 3_600_000]);

    postmaster = await postmasterOf(db);
    if (placement) {
      if (postmaster === null) throw new Error('the pinned rows need PostgreSQL on this machine (DATABASE_URL_POSTGRES names a server elsewhere)');
      // backends started later are forked by the postmaster: they inherit its cores
      pinTree(postmaster, placement.rest);
      pin(receiver.pid, placement.rest);
      pin(process.pid, placement.rest);
    }
    for (let i = 0; i < count; i++) instances.push(new Instance(env, placement?.instances[i]));
    await Promise.all(instances.map((instance) => instance.start()));
    const trips = async () => (await Promise.all(instances.map((instance) => instance.roundTrips()))).reduce((a, b) => a + b, 0);
    const tripsBefore = await trips();
    const cpuNow = (): CpuUsed => {
      const loops = instances.map((instance) => scheduled(instance.pid));
      return {
        herald: instances.reduce((sum, instance) => sum + cpuSeconds(instance.pid), 0),
        postgres: postmaster === null ? NaN : treeCpuSeconds(postmaster),
        receiver: cpuSeconds(receiver.pid),
        loopRunning: loops.reduce((sum, loop) => sum + loop.running, 0),
        loopWaiting: loops.reduce((sum, loop) => sum + loop.waiting, 0),
        postgresWaiting: postmaster === null ? NaN : treeWaiting(postmaster),
        wall: performance.now() / 1000,
      };
    };
    // every dispatcher looks at the queue at least once a second: by T each has armed its timer for T
    const t = Date.now() + 1500;
    await db.query(`UPDATE webhook_deliveries SET next_attempt_at = $1`, [t]);
    receiver.reset();
    // counted from T: the busy share of a core is that of the work, not of the wait for it
    await sleep(Math.max(0, t - Date.now()));
    const cpuBefore = cpuNow();
    const deadline = t + 180_000;
    // every delivery once: a request sent twice does not stand in for one not sent yet
    while (receiver.deliveries < TOTAL) {
      if (Date.now() > deadline) throw new Error(`${count} instance(s): only ${receiver.deliveries} of ${TOTAL} deliveries arrived in time`);
      await sleep(2);
    }
    const ms = Date.now() - t;
    // every delivery is recorded as delivered (the last records commit just after their request)
    for (let i = 0; ; i++) {
      const { rows } = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'DELIVERED'`);
      if (Number(rows[0].n) === TOTAL) break;
      if (i > 100) throw new Error(`${count} instance(s): ${rows[0].n} of ${TOTAL} deliveries recorded as delivered`);
      await sleep(50);
    }
    const cpuAfter = cpuNow();
    const cpu = Object.fromEntries(Object.keys(cpuAfter).map((key) => [key, cpuAfter[key as keyof CpuUsed] - cpuBefore[key as keyof CpuUsed]])) as unknown as CpuUsed;
    // one request as Herald sent it (body and headers, the signature included): the raw loop sends the same bytes
    const sent = await db.query<{ request: SentRequest }>(`SELECT request FROM webhook_delivery_attempts ORDER BY delivery_id LIMIT 1`);
    const request = typeof sent.rows[0].request === 'string' ? (JSON.parse(sent.rows[0].request) as SentRequest) : sent.rows[0].request;
    return { rate: TOTAL / (ms / 1000), ms, received: receiver.requests, roundTrips: ((await trips()) - tripsBefore) / TOTAL, cpu, request };
  } finally {
    await Promise.allSettled(instances.map((instance) => instance.stop()));
    if (placement) {
      pin(process.pid, ALL_CPUS);
      if (postmaster !== null) pinTree(postmaster, ALL_CPUS);
    }
    await db.end().catch(() => undefined);
    receiver.stop();
    await withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
  }
}

export interface SentRequest {
  headers: Record<string, string>;
  body: string;
}
