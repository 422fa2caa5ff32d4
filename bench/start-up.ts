/**
 * Issue 23's benchmarks, on logs written by ./big-log.ts (10,000 issues × 100 events and a
 * tenth of that): how long the built service (dist/src/main.js, spawned) takes from its start
 * until /health/ready answers 200, on a log it has started on before (its check remembers how
 * far it judged the log) and on one it has never seen (it judges every event once); and how
 * /health/live answers (probed every 20 ms over HTTP) meanwhile, and during a rebuild of the
 * read models through the running service. Run alone: `node dist/bench/start-up.js [sqlite|postgres]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config/config.js';
import { openDataSource } from '../src/database/data-source.js';
import { ProjectionRebuilder } from '../src/event-store/projection-rebuilder.js';
import { AGGREGATES, openEventStore } from '../src/domain.js';
import { systemClock } from '../src/shared/clock.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { writeBigLog } from './big-log.js';
import type { Row } from './webhooks.js';

const TOKEN = 'bench-admin-token-0123456789';
const PROBE_MS = 20;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** /health/live every PROBE_MS while it runs: each answer's time (ms), from the first answer on (before it, nothing listens). */
class LiveProbe {
  readonly times: number[] = [];
  failures = 0;
  private timer: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(base: string) {
    this.timer = setInterval(() => {
      const sent = performance.now();
      const probe = fetch(`${base}/health/live`)
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) this.times.push(performance.now() - sent);
          else if (this.times.length > 0) this.failures++;
        })
        .catch(() => {
          if (this.times.length > 0) this.failures++;
        })
        .finally(() => this.inFlight.delete(probe));
      this.inFlight.add(probe);
    }, PROBE_MS);
  }

  async stop(): Promise<{ answers: number; p99: number; worst: number; failures: number }> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
    return { answers: this.times.length, p99: percentile(this.times, 99), worst: Math.max(...this.times), failures: this.failures };
  }
}

let nextPort = 21000 + Math.floor(Math.random() * 2000);

/** The built service on this database, as `npm start` runs it. */
function spawnHerald(database: string): { child: ChildProcess; base: string; output: () => string } {
  const port = nextPort++;
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.js')], {
    env: { PATH: process.env.PATH, DATABASE_URL: database, PORT: String(port), HOST: '127.0.0.1', HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'info', HERALD_RATE_LIMIT_PER_MINUTE: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output };
}

async function stopHerald(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Starts the service and waits until /health/ready answers 200: seconds from the spawn, and /health/live meanwhile. */
async function startUntilReady(database: string) {
  const spawned = performance.now();
  const herald = spawnHerald(database);
  const probe = new LiveProbe(herald.base);
  for (;;) {
    if (herald.child.exitCode !== null) throw new Error(`Herald exited with ${herald.child.exitCode}:\n${herald.output()}`);
    const res = await fetch(`${herald.base}/health/ready`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) break;
    await sleep(PROBE_MS);
  }
  const seconds = (performance.now() - spawned) / 1000;
  const live = await probe.stop();
  const check = herald
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; checked?: number; durationMs?: number })
    .find((line) => line.msg === 'the event log matches its schemas');
  return { herald, seconds, live, checked: check?.checked ?? NaN, checkMs: check?.durationMs ?? NaN };
}

/** POST /api/admin/projections/rebuild on the running service, /health/live probed until GET says it is done. */
async function rebuildThroughService(base: string) {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const probe = new LiveProbe(base);
  const started = await fetch(`${base}/api/admin/projections/rebuild`, { method: 'POST', headers });
  if (started.status !== 202) throw new Error(`the rebuild did not start: ${started.status} ${await started.text()}`);
  const { id } = (await started.json()) as { id: string };
  let status: { id: string; state: string; durationMs: number | null; done: number; error: string | null };
  do {
    await sleep(200);
    status = (await (await fetch(`${base}/api/admin/projections/rebuild`, { headers })).json()) as typeof status;
  } while (status.id !== id || status.state === 'running');
  const live = await probe.stop();
  if (status.state !== 'done') throw new Error(`the rebuild ended ${status.state}: ${status.error}`);
  return { seconds: (status.durationMs ?? NaN) / 1000, events: status.done, live };
}

interface Engine {
  name: 'sqlite' | 'postgres';
  /** A new, empty database. */
  database(label: string): Promise<{ config: DatabaseConfig; url: string }>;
  close(): Promise<void>;
}

async function sqliteEngine(dir: string): Promise<Engine> {
  return {
    name: 'sqlite',
    database: async (label) => {
      const path = join(dir, `${label}.sqlite`);
      return { config: { kind: 'sqlite', path }, url: `sqlite:${path}` };
    },
    close: async () => undefined,
  };
}

async function postgresEngine(): Promise<Engine> {
  const given = process.env.DATABASE_URL_POSTGRES;
  const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-start-up', { durable: true });
  return {
    name: 'postgres',
    database: async (label) => {
      const name = `herald_startup_${label}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return { config: { kind: 'postgres', url: url.toString(), poolSize: 10 } as DatabaseConfig, url: url.toString() };
    },
    close: () => server.stop(),
  };
}

/** A log of this many issues × 100 events, with its read models built (in process): what a service that wrote it would leave. */
async function bigLog(engine: Engine, issues: number) {
  const { config, url } = await engine.database(`log${issues}`);
  const log = await writeBigLog(config, issues);
  const ds = await openDataSource(config);
  const store = openEventStore(ds, systemClock, { listen: false });
  const rebuilt = await new ProjectionRebuilder(store, AGGREGATES).rebuild({ requestedBy: 'bench' });
  await store.close();
  await ds.destroy();
  return { url, log, rebuiltSeconds: rebuilt.durationMs / 1000 };
}

/** Every start-up row on one engine: restarts on 100,000 and 1,000,000 events, the first start and a rebuild on 1,000,000. */
export async function startUpRows(engine: Engine, sizes = { small: 1_000, big: 10_000 }): Promise<Row[]> {
  const runs: Record<string, { first: Awaited<ReturnType<typeof startUntilReady>>; again: Awaited<ReturnType<typeof startUntilReady>>; events: number; writeSeconds: number; rebuiltSeconds: number }> = {};
  let rebuild: Awaited<ReturnType<typeof rebuildThroughService>> | undefined;
  for (const [label, issues] of Object.entries(sizes)) {
    const { url, log, rebuiltSeconds } = await bigLog(engine, issues);
    // never started on: the check judges every event once
    const first = await startUntilReady(url);
    await stopHerald(first.herald.child);
    // started on before: only what was appended since (the admin's first events) is judged
    const again = await startUntilReady(url);
    if (label === 'big') rebuild = await rebuildThroughService(again.herald.base);
    await stopHerald(again.herald.child);
    runs[label] = { first, again, events: log.events, writeSeconds: log.writeSeconds, rebuiltSeconds };
  }
  const { small, big } = runs;
  const on = engine.name === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const liveTarget = (l: { p99: number; worst: number }) => (l.p99 < 50 && l.worst < 250 ? 1 : 0);
  const liveText = (l: { answers: number; p99: number; worst: number; failures: number }) =>
    l.answers === 0
      ? `ready before the first probe answered (0 answers${l.failures ? `, ${l.failures} failed!` : ''})`
      : `p99 ${l.p99.toFixed(1)} ms, worst ${l.worst.toFixed(1)} ms (${l.answers} answers${l.failures ? `, ${l.failures} failed!` : ''})`;
  return [
    {
      name: `(j) ${on}: start-up to ready, a log started on before (${fmt(small.events)} vs ${fmt(big.events)} events)`,
      herald: `${big.again.seconds.toFixed(2)} s on ${fmt(big.events)} (${big.again.checked} events checked)`,
      baseline: `${small.again.seconds.toFixed(2)} s on ${fmt(small.events)} (${small.again.checked} checked)`,
      ratio: small.again.seconds / big.again.seconds,
      target: 0.8,
      note:
        `first start on each log (every event judged once, in slices): ${small.first.seconds.toFixed(1)} s (check ${fmt(small.first.checkMs)} ms) on ${fmt(small.events)}, ` +
        `${big.first.seconds.toFixed(1)} s (check ${fmt(big.first.checkMs)} ms) on ${fmt(big.events)}; the logs were written raw in ${small.writeSeconds.toFixed(0)} s and ${big.writeSeconds.toFixed(0)} s ` +
        `and their read models built in process in ${small.rebuiltSeconds.toFixed(0)} s and ${big.rebuiltSeconds.toFixed(0)} s`,
    },
    {
      name: `(k) ${on}: /health/live every 20 ms during the first start on ${fmt(big.events)} events (the whole log judged)`,
      herald: liveText(big.first.live),
      baseline: 'targets p99 < 50 ms, worst < 250 ms',
      ratio: liveTarget(big.first.live),
      target: 1,
      note: `from the first answer (the service listens once its modules are loaded) to ready; during the restart: ${liveText(big.again.live)}`,
    },
    {
      name: `(k) ${on}: /health/live every 20 ms during a rebuild through the running service on ${fmt(big.events)} events`,
      herald: liveText(rebuild!.live),
      baseline: 'targets p99 < 50 ms, worst < 250 ms',
      ratio: liveTarget(rebuild!.live),
      target: 1,
      note: `the rebuild replayed ${fmt(rebuild!.events)} events in ${rebuild!.seconds.toFixed(1)} s (${fmt(rebuild!.events / rebuild!.seconds)} events/s)`,
    },
  ];
}

export const engines = { sqlite: sqliteEngine, postgres: postgresEngine };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const which = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const issues = Number(process.argv[3] ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-start-up-'));
  const engine = which === 'postgres' ? await postgresEngine() : await sqliteEngine(dir);
  try {
    for (const row of await startUpRows(engine, { small: issues / 10, big: issues })) console.log(JSON.stringify(row, null, 1));
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
