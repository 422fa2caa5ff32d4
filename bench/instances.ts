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
import { ALL_CPUS, cannotPin, cpuSeconds, pin, pinTree, postmasterOf, scheduled, treeCpuSeconds, treeWaiting } from './cpus.js';
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
interface Placement {
  /** One list per Herald instance. */
  instances: string[];
  /** PostgreSQL (every process of the server), the receiver and this bench process. */
  rest: string;
}

/** Seconds of CPU used while the deliveries went out (from just before they were made due until all were recorded). */
interface CpuUsed {
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

interface RoundResult {
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
async function round(server: BenchPostgres, n: number | Placement): Promise<RoundResult> {
  const placement = typeof n === 'number' ? null : n;
  const count = placement ? placement.instances.length : (n as number);
  const name = `herald_bench_instances_${count}_${randomBytes(3).toString('hex')}`;
  await admin(server.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
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

/**
 * The pinned set-ups (issue 26): Herald on cpu 0; PostgreSQL (every process of it), the receiver and this bench
 * process on cpu 1. Each run PINNED_PASSES times, the set-ups taking turns (a loaded machine drifts); the median counts.
 */
const PINNED = {
  one: { instances: ['0'], rest: '1' },
  sameCore: { instances: ['0', '0'], rest: '1' },
  split: { instances: ['0', '1'], rest: '1' },
} satisfies Record<string, Placement>;
const PINNED_PASSES = 3;

/** Milliseconds of CPU per delivery. */
const perDelivery = (seconds: number, rounds: number) => (seconds * 1000) / (TOTAL * rounds);
const millis = (n: number) => `${n.toFixed(2)} ms`;

async function pinnedRows(server: BenchPostgres, unpinned: RoundResult): Promise<Row[]> {
  const why = cannotPin();
  if (why) {
    return [{ name: '(g) pinned: PostgreSQL deliveries/s with instances pinned to cores', herald: 'not measured', baseline: why, ratio: 0, target: 1 }];
  }
  const results: Record<keyof typeof PINNED, RoundResult[]> = { one: [], sameCore: [], split: [] };
  for (let pass = 0; pass < PINNED_PASSES; pass++) {
    for (const key of Object.keys(PINNED) as (keyof typeof PINNED)[]) results[key].push(await round(server, PINNED[key]));
  }
  const median = (rs: RoundResult[]) => {
    const rates = rs.map((r) => r.rate).sort((a, b) => a - b);
    const middle = Math.floor(rates.length / 2);
    return rates.length % 2 === 1 ? rates[middle] : (rates[middle - 1] + rates[middle]) / 2;
  };
  const runs = (rs: RoundResult[]) => `runs: ${rs.map((r) => fmt(r.rate)).join(', ')}`;
  const total = (rs: RoundResult[], of: keyof CpuUsed) => rs.reduce((sum, r) => sum + r.cpu[of], 0);
  /** Milliseconds per delivery of one of the CPU figures, over all runs of a set-up. */
  const each = (rs: RoundResult[], of: keyof CpuUsed) => perDelivery(total(rs, of), rs.length);
  const one = results.one;
  const base = median(one);
  const [herald, postgres, receiver] = [each(one, 'herald'), each(one, 'postgres'), each(one, 'receiver')];
  // the event loop's wall time per delivery: running, waiting for its core, and the rest blocked (on PostgreSQL, the receiver, timers)
  const [wall, running, waiting] = [each(one, 'wall'), each(one, 'loopRunning'), each(one, 'loopWaiting')];
  const twice = (rs: RoundResult[]) => {
    const extra = rs.reduce((sum, r) => sum + r.received - TOTAL, 0);
    return extra > 0 ? ` (${extra} sent twice)` : '';
  };
  const loaded =
    'The machine is shared: whatever else runs (a test run of the whole suite, when these were measured) is not pinned and takes ' +
    'its share of both cores, so a pinned process has a core only as far as the load leaves it one: the time its event loop waited for the core says how much it did not. ';
  return [
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 1 instance on cpu 0; PostgreSQL, the receiver and the bench on cpu 1 (${TOTAL} deliveries)`,
      herald:
        `${fmt(base)} (${runs(one)})${twice(one)}; per delivery: Herald ${millis(herald)} of CPU; of ${millis(wall)} of wall time its event loop ran ${millis(running)}, ` +
        `waited for cpu 0 ${millis(waiting)} and was idle ${millis(wall - running - waiting)}; PostgreSQL ${millis(postgres)} of CPU (its processes waited ${millis(each(one, 'postgresWaiting'))} for cpu 1), ` +
        `the receiver ${millis(receiver)}`,
      baseline: `${fmt(unpinned.rate)} with 1 instance placed by the OS (same run; Herald ${millis(perDelivery(unpinned.cpu.herald, 1))}, PostgreSQL ${millis(perDelivery(unpinned.cpu.postgres, 1))}, the receiver ${millis(perDelivery(unpinned.cpu.receiver, 1))} of CPU per delivery)`,
      ratio: base / unpinned.rate,
      target: 0.5,
      note:
        `median of ${PINNED_PASSES} runs, the set-ups taking turns. Every thread of the instance started under \`taskset -c 0\`; the postmaster and every process under it (backends, ` +
        'checkpointer, WAL writer; backends forked later inherit it), the receiver and the bench process pinned to cpu 1 with `taskset -a -p`. CPU: each process\'s user and system time from /proc ' +
        '(PostgreSQL: the postmaster and everything under it, ended backends included), from the instant every delivery was due until all were recorded, over all runs, divided by the deliveries. ' +
        'The event loop (the main thread) from /proc/<pid>/schedstat: time on a core, time runnable but waiting for one (the run queue), and the rest of the wall time, when it had nothing to run (waiting for PostgreSQL\'s answers, the receiver\'s, timers). ' +
        'Ratio: pinned over placed by the OS (target 0.5: held to one core of two, it keeps at least half its rate). ' +
        'What it can say: how much CPU a delivery costs each side, and what the instance waits for: its core (then it is bound by CPU, its own or the load\'s) or PostgreSQL (then another instance has room to add). ' +
        'What it cannot: the rate on a machine of more cores, which the last pinned row bounds but does not measure. ' +
        loaded,
    },
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 2 instances both on cpu 0 (${TOTAL} deliveries)`,
      herald: `${fmt(median(results.sameCore))} (${runs(results.sameCore)})${twice(results.sameCore)}; Herald ${millis(each(results.sameCore, 'herald'))} of CPU per delivery`,
      baseline: `${fmt(base)} with 1 instance on cpu 0 (same run)`,
      ratio: median(results.sameCore) / base,
      target: 0.9,
      note:
        'the same core shared by two instances: no CPU is added, so no throughput can be; what the ratio measures is what a second instance costs ' +
        '(two dispatchers claiming from one queue with SKIP LOCKED, twice the polling, heartbeats and connections, two event loops switching on one core). ' +
        'Target 0.9: a second instance where it has no CPU to use costs at most a tenth. It cannot say whether a second instance adds throughput: on one core it has nothing to add with',
    },
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 2 instances, one on cpu 0, one on cpu 1 beside PostgreSQL and the receiver (${TOTAL} deliveries)`,
      herald: `${fmt(median(results.split))} (${runs(results.split)})${twice(results.split)}; Herald ${millis(each(results.split, 'herald'))} of CPU per delivery`,
      baseline: `${fmt(base)} with 1 instance on cpu 0 (same run)`,
      ratio: median(results.split) / base,
      target: 1,
      note:
        'the second instance has CPU to use only as far as PostgreSQL and the receiver leave it some on cpu 1 (the first pinned row says how much CPU they took per delivery). ' +
        'Above 1: a second instance turned idle CPU into deliveries; near 1: cpu 1 had none to spare; under 1: taking it from PostgreSQL slowed the first instance more than the second added. ' +
        'On 2 cores this is the only set-up where a second instance gets CPU the first did not have, and it is not a core of its own: ' +
        'the scaling on machines of their own is what the last pinned row bounds, not a measurement',
    },
    {
      name: '(g) pinned: Herald cores one PostgreSQL core keeps busy (CPU per delivery, 1 instance pinned)',
      herald: `${(herald / postgres).toFixed(2)} (Herald ${millis(herald)}, PostgreSQL ${millis(postgres)} of CPU per delivery)`,
      baseline:
        `a bound, not a measurement: PostgreSQL on a core of its own carries at most ${fmt(1000 / postgres)} deliveries/s, ` +
        `each Herald core at most ${fmt(1000 / herald)}`,
      ratio: herald / postgres,
      target: 2,
      note:
        'ratio: Herald\'s CPU per delivery over PostgreSQL\'s, from the first pinned row (the receiver left out: a deployment\'s receivers run elsewhere). ' +
        'Target 2: one PostgreSQL core can keep at least two instances\' cores busy, so a second instance on a core of its own adds deliveries. ' +
        'A bound by CPU alone: it leaves out waiting for the WAL to reach the disk (shared by concurrent commits), lock and SKIP LOCKED contention between instances, ' +
        'and the load inflating both sides\' CPU per delivery (cache misses, switches); PostgreSQL with more cores runs more backends at once',
    },
  ];
}

export async function instances(): Promise<Row[]> {
  const given = process.env.DATABASE_URL_POSTGRES;
  const server: BenchPostgres = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-instances', { durable: true });
  try {
    const results: ({ n: number } & RoundResult)[] = [];
    for (const n of [1, 2, 3]) results.push({ n, ...(await round(server, n)) });
    const raw = await rawRate(results[0].request);
    const one = results[0];
    const twice = (r: { received: number }) => (r.received > TOTAL ? ` (${r.received - TOTAL} sent twice)` : '');
    const trips = (r: { roundTrips: number }) => `${r.roundTrips.toFixed(2)} round trips per delivery`;
    const pinned = await pinnedRows(server, one);
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
      ...pinned,
    ];
  } finally {
    await server.stop();
  }
}
