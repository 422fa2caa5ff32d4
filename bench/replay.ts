/** Issue 15's and 23's benchmarks: replays of the log to one webhook (their rate and the loop meanwhile), and the decisions route. */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { AggregateStore } from '../src/event-store/aggregate-store.js';
import { EventStore } from '../src/event-store/event-store.js';
import type { IssueEvent } from '../src/issues/issue.events.js';
import { issueAggregate } from '../src/issues/issue.projection.js';
import { openDataSource, sqliteHandle } from '../src/database/data-source.js';
import { openSqlite } from '../src/database/sqlite-driver.js';
import { AGGREGATES } from '../src/domain.js';
import { ProjectionRebuilder } from '../src/event-store/projection-rebuilder.js';
import { SqliteEventStore } from '../src/event-store/sqlite-event-store.js';
import { systemClock } from '../src/shared/clock.js';
import { buildReplayLog } from './replay-log.js';
import { startReceiver } from './receiver-process.js';
import { LOCAL, type Row } from './webhooks.js';
import { serverExecArgv } from './profile.js';

const TOKEN = 'bench-admin-token-0123456789';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const meta = { actorId: 1, correlationId: 'bench' };

async function call<T>(app: NestFastifyApplication, method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await inject(app, method, url, body);
  return { status: res.statusCode, json: res.json() as T };
}

/** The server's answer, unparsed (a client's parsing is not the route's latency). */
function inject(app: NestFastifyApplication, method: 'GET' | 'POST', url: string, body?: unknown) {
  return app.getHttpAdapter().getInstance().inject({ method, url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
}

/** `count` description changes of an issue, appended 100 to a transaction (a log as big as wanted, fast). */
async function grow(store: EventStore, issueId: number, projectId: number, count: number): Promise<void> {
  const issues = new AggregateStore(issueAggregate, store);
  for (let done = 0; done < count; done += 100) {
    const n = Math.min(100, count - done);
    await issues.update(issueId, { metadata: meta }, (s) =>
      Array.from({ length: n }, (_, k): IssueEvent => ({ type: 'issue.field-updated', schemaVersion: 2, data: { issueId, projectId, field: 'description', from: k === 0 ? s.description : `d${done + k - 1}`, to: `d${done + k}` } }) as IssueEvent),
    );
  }
}

async function open(dir: string, name: string) {
  const env = { DATABASE_URL: `sqlite:${join(dir, `${name}.sqlite`)}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
  const { app } = await createApp(loadConfig(env));
  const project = (await call<{ id: number }>(app, 'POST', '/api/projects', { name: name })).json;
  return { app, store: app.get(EventStore), projectId: project.id };
}

/** One whole-log replay on a log built raw: how fast it queued, and how /health/live answered meanwhile. */
interface ReplayRun {
  events: number;
  count: number;
  seconds: number;
  rate: number;
  /** Deliveries queued per second over the first and the last tenth of the log. */
  firstTenth: number;
  lastTenth: number;
  /** /health/live answers (ms) while the server was idle, during the whole-log dry run, during the replay. */
  idle: number[];
  dry: number[];
  live: number[];
  dryRequests: number;
  drySeconds: number;
  sent: number;
  build: number;
  start: number;
  /** A projection rebuild of the same log (events/s): what folding it alone costs. */
  rebuildRate: number;
  /** What the log and the delivery table take on disk after the replay. */
  sizes: StoredSizes;
}

/** Bytes on disk (SQLite's dbstat: pages, indexes included) of the log and of the delivery table, per row. */
interface StoredSizes {
  eventBytes: number;
  deliveryBytes: number;
  deliveryIndexBytes: number;
  /** The part of a delivery row that is its stored activity (the column's average length). */
  activityBytes: number;
}

function storedSizes(path: string): StoredSizes {
  const db = openSqlite(path, { readonly: true });
  try {
    const tableBytes = (table: string, indexes: boolean) =>
      (db.prepare(`SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE ${indexes ? `name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)` : 'name = ?'}`).get(table) as { b: number }).b;
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const events = count('events');
    const deliveries = Math.max(1, count('webhook_deliveries'));
    const { a } = db.prepare(`SELECT AVG(LENGTH(activity)) AS a FROM webhook_deliveries`).get() as { a: number | null };
    return {
      eventBytes: (tableBytes('events', false) + tableBytes('events', true)) / events,
      deliveryBytes: tableBytes('webhook_deliveries', false) / deliveries,
      deliveryIndexBytes: tableBytes('webhook_deliveries', true) / deliveries,
      activityBytes: a ?? 0,
    };
  } finally {
    db.close();
  }
}

/**
 * Builds a log of `issues` × 100 events (bench/replay-log.ts), starts the service on it in a
 * process of its own (background work on: subscription, heartbeat, dispatcher), creates a Custom
 * webhook to a local receiver, then runs a whole-log dry run (following `next` until the range
 * is read) and a whole-log replay (polling its progress until everything is queued) while
 * /health/live is asked every 20 ms over HTTP.
 */
async function replayRun(dir: string, issues: number): Promise<ReplayRun> {
  const path = join(dir, `replay-${issues}.sqlite`);
  const built = await buildReplayLog(path, TOKEN, { issues, eventsPerIssue: 100 });
  const receiver = await startReceiver();
  const port = 17000 + Math.floor(Math.random() * 1000);
  let started = performance.now();
  const server = fork(join(import.meta.dirname, 'server.js'), [], {
    execArgv: serverExecArgv,
    env: { ...process.env, ...LOCAL, PORT: String(port), DATABASE_URL: `sqlite:${path}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => server.once('message', resolve));
  const start = (performance.now() - started) / 1000;
  const base = `http://127.0.0.1:${port}`;
  const http = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as T };
  };
  const hook = (await http<{ id: number }>('POST', `/api/projects/${built.projectId}/webhooks`, { type: 'CUSTOM', name: 'sink', url: `http://127.0.0.1:${receiver.port}/hook`, activityTypes: ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.pipeline.task.status.update', 'bb.pipeline.stage.status.update'] })).json;
  const replayPath = `/api/projects/${built.projectId}/webhooks/${hook.id}/replay`;
  const probe = livenessProbe(base);
  await sleep(3000);
  const idle = probe.take();

  // the dry run: a bounded part of the range per request, `next` going on until it is all read
  started = performance.now();
  let dryRequests = 0;
  for (let from: string | null = 'position:1'; from; dryRequests++) {
    const preview: { status: number; json: { next: string | null } } = await http('POST', replayPath, { from, dryRun: true });
    if (preview.status !== 200) throw new Error(`a dry run answered ${preview.status}`);
    from = preview.json.next;
  }
  const drySeconds = (performance.now() - started) / 1000;
  const dry = probe.take();

  started = performance.now();
  const replay = await http<{ id: string }>('POST', replayPath, { from: 'position:1' });
  if (replay.status !== 202) throw new Error(`a replay answered ${replay.status}`);
  const samples: { at: number; scannedTo: number; count: number }[] = [];
  for (;;) {
    const progress = (await http<{ state: string; scannedTo: number; count: number; error: string | null }>('GET', `/api/projects/${built.projectId}/webhooks/${hook.id}/replays/${replay.json.id}`)).json;
    samples.push({ at: performance.now(), scannedTo: progress.scannedTo, count: progress.count });
    if (progress.state === 'failed') throw new Error(`the replay failed: ${progress.error}`);
    if (progress.state !== 'scanning') break;
    await sleep(500);
  }
  const seconds = (samples[samples.length - 1].at - started) / 1000;
  const live = probe.take();
  probe.stop();
  server.kill('SIGTERM');
  const sent = receiver.requests;
  receiver.stop();
  await new Promise((resolve) => server.once('exit', resolve));
  const sizes = storedSizes(path);
  const rebuildRate = await rebuildRateOf(path);
  const count = samples[samples.length - 1].count;
  // the rate between the samples nearest to a tenth of the log and to nine tenths
  const near = (position: number) => samples.reduce((best, s) => (Math.abs(s.scannedTo - position) < Math.abs(best.scannedTo - position) ? s : best));
  const between = (a: (typeof samples)[number], b: (typeof samples)[number]) => (b.count - a.count) / ((b.at - a.at) / 1000);
  const first = { at: started, scannedTo: 0, count: 0 };
  return {
    events: built.events,
    count,
    seconds,
    rate: count / seconds,
    firstTenth: between(first, near(built.events / 10)),
    lastTenth: between(near((built.events * 9) / 10), samples[samples.length - 1]),
    idle,
    dry,
    live,
    dryRequests,
    drySeconds,
    sent,
    build: built.seconds,
    start,
    rebuildRate,
    sizes,
  };
}

/** A rebuild of every read model from the log in this file (events/s), with the service stopped. */
async function rebuildRateOf(path: string): Promise<number> {
  const ds = await openDataSource({ kind: 'sqlite', path });
  const store = new SqliteEventStore(sqliteHandle(ds), systemClock);
  try {
    const { events, durationMs } = await new ProjectionRebuilder(store, AGGREGATES).rebuild({ requestedBy: 'bench' });
    return events / (durationMs / 1000);
  } finally {
    await store.close();
    await ds.destroy();
  }
}

/** Asks /health/live every 20 ms (one at a time: a held loop shows as one long answer), keeping the answers' times. */
function livenessProbe(base: string) {
  let answers: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const start = performance.now();
      await (await fetch(`${base}/health/live`)).arrayBuffer();
      const ms = performance.now() - start;
      answers.push(ms);
      await sleep(Math.max(0, 20 - ms));
    }
  })();
  return {
    take: () => {
      const taken = answers;
      answers = [];
      return taken;
    },
    stop: () => {
      running = false;
      return done;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * (h) A whole-log replay to one Custom webhook on a log of 1,000,000 events, against the same replay
 * on 100,000 (target 0.8: no slowdown with size); (j) /health/live meanwhile, and during the
 * whole-log dry run before it (targets: p99 under 50 ms, the worst under 250 ms).
 */
export async function replayRows(dir: string, cRebuildRate: number): Promise<Row[]> {
  const small = await replayRun(dir, 1_000);
  const big = await replayRun(dir, 10_000);
  const ms = (values: number[]) => `p50 ${percentile(values, 50).toFixed(1)}, p99 ${percentile(values, 99).toFixed(1)}, worst ${Math.max(...values).toFixed(0)}`;
  const worstP99 = Math.max(percentile(big.dry, 99), percentile(big.live, 99));
  const worst = Math.max(...big.dry, ...big.live);
  return [
    {
      name: '(h) whole-log replay to one Custom webhook, 1,000,000 events (deliveries queued/s)',
      herald: `${fmt(big.rate)} (${fmt(big.count)} in ${big.seconds.toFixed(0)} s; first tenth of the log ${fmt(big.firstTenth)}/s, last tenth ${fmt(big.lastTenth)}/s)`,
      baseline: `${fmt(small.rate)}/s: the same replay on 100,000 events (${fmt(small.count)} in ${small.seconds.toFixed(1)} s)`,
      ratio: big.rate / small.rate,
      target: 0.8,
      note:
        `in the background (the request answers at once), in pages of 100 events, each page's rows and the replay's progress in one transaction; ` +
        `meanwhile the dispatcher sent ${fmt(big.sent)} of them to a local receiver, and /health/live was asked every 20 ms. ` +
        `A rebuild of the read models from the same 1,000,000-event log ran at ${fmt(big.rebuildRate)} events/s: the replay queues at ${(big.rate / big.rebuildRate).toFixed(2)} of that ` +
        `(on the 100,000-event log: ${fmt(small.rebuildRate)} events/s, ${(small.rate / small.rebuildRate).toFixed(2)}); (c)'s rebuild, of another log, ran at ${fmt(cRebuildRate)}. ` +
        `The log was written raw in ${big.build.toFixed(0)} s (bench/replay-log.ts); the service started on it in ${big.start.toFixed(1)} s. ` +
        `On disk after the replay: ${fmt(big.sizes.deliveryBytes)} bytes per delivery row (its activity ${fmt(big.sizes.activityBytes)}) and ${fmt(big.sizes.deliveryIndexBytes)} in the table's indexes, ` +
        `against ${fmt(big.sizes.eventBytes)} bytes per event in the log, indexes included`,
    },
    {
      name: '(m) /health/live during a whole-log dry run and a whole-log replay, 1,000,000 events (ms, asked every 20 ms over HTTP)',
      herald: `dry run (${big.dryRequests} requests, ${big.drySeconds.toFixed(0)} s): ${ms(big.dry)}; replay: ${ms(big.live)}`,
      baseline: `the idle server: ${ms(big.idle)}; ratio = the lesser of 50 ms / the worse p99 and 250 ms / the worst answer`,
      ratio: Math.min(50 / worstP99, 250 / worst),
      target: 1,
      note: `on 100,000 events: dry run ${ms(small.dry)}; replay ${ms(small.live)}`,
    },
  ];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** (i) The decisions route for an issue with 1,000 events and 10 webhooks: p99 in ms (target under 50 ms). */
export async function decisionsLatency(dir: string, runs = 200): Promise<Row> {
  const { app, store, projectId } = await open(dir, 'decisions');
  for (let w = 0; w < 10; w++) {
    await call(app, 'POST', `/api/projects/${projectId}/webhooks`, {
      type: 'CUSTOM',
      name: `hook ${w}`,
      url: `https://sink.example.com/hook/${w}`,
      activityTypes: w % 3 === 0 ? ['bb.issue.create'] : ['bb.issue.create', 'bb.issue.field.update'],
      active: w !== 9,
      ...(w % 2 === 1 ? { filter: 'level != "ERROR" && !title.startsWith("Changed issue name")' } : {}),
    });
  }
  const issue = (await call<{ id: number }>(app, 'POST', `/api/projects/${projectId}/issues`, { name: 'busy', type: 'bb.issue.general' })).json;
  await grow(store, issue.id, projectId, 999);
  // over the socket, as a client asks (keep-alive), like (b): the answer read in full
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const time = async (url: string) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers });
      await res.text();
      ms.push(performance.now() - start);
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    }
    return ms.slice(runs / 10); // the first tenth warms up
  };
  // the route pages by events (50 by default): the first page, and the last (which folds the whole stream first)
  const first = await time(`/api/issues/${issue.id}/webhook-decisions`);
  const walkStart = performance.now();
  let cursor: string | null = (await call<{ nextCursor: string | null }>(app, 'GET', `/api/issues/${issue.id}/webhook-decisions`)).json.nextCursor;
  let lastCursor = '';
  let pages = 1;
  for (; cursor; pages++) {
    lastCursor = cursor;
    cursor = (await call<{ nextCursor: string | null }>(app, 'GET', `/api/issues/${issue.id}/webhook-decisions?cursor=${cursor}`)).json.nextCursor;
  }
  const walkMs = performance.now() - walkStart;
  const last = await time(`/api/issues/${issue.id}/webhook-decisions?cursor=${lastCursor}`);
  const events = await time(`/api/issues/${issue.id}/events`);
  await app.close();
  const p99 = Math.max(percentile(first, 99), percentile(last, 99));
  return {
    name: '(i) decisions route, 1,000 events × 10 webhooks (ms per page of 50 events)',
    herald: `first page p50 ${percentile(first, 50).toFixed(1)}, p99 ${percentile(first, 99).toFixed(1)}; a page at the stream's end p50 ${percentile(last, 50).toFixed(1)}, p99 ${percentile(last, 99).toFixed(1)}`,
    baseline: `over HTTP (keep-alive); the issue’s raw event stream (GET …/events, all 1,000): p50 ${percentile(events, 50).toFixed(1)}, p99 ${percentile(events, 99).toFixed(1)}; ratio = 50 ms / the worse p99`,
    ratio: 50 / p99,
    target: 1,
    note: `the whole history, page after page: ${pages} pages in ${walkMs.toFixed(0)} ms`,
  };
}
