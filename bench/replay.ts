/** Issue 15's benchmarks: scheduling a replay of the log to one webhook, and the decisions route. */
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { openSqlite } from '../src/database/sqlite-driver.js';
import { AggregateStore } from '../src/event-store/aggregate-store.js';
import { EventStore } from '../src/event-store/event-store.js';
import { ProjectionRebuilder } from '../src/event-store/projection-rebuilder.js';
import type { IssueEvent } from '../src/issues/issue.events.js';
import { issueAggregate } from '../src/issues/issue.projection.js';
import { projectAggregate } from '../src/projects/project.projection.js';
import { userAggregate } from '../src/users/user.aggregate.js';
import type { Row } from './webhooks.js';

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

/**
 * (h) A replay of 100,000 events to one Custom webhook: deliveries scheduled per second, against (c)'s
 * rebuild rate in the same run (the issue's target: at least half of it); a rebuild of the replayed log
 * itself (fewer, longer streams than (c)'s) is noted beside it.
 */
export async function replayRate(dir: string, cRebuildRate: number, events = 100_000): Promise<Row> {
  const { app, store, projectId } = await open(dir, 'replay');
  const perIssue = events / 10;
  for (let i = 0; i < 10; i++) {
    const issue = (await call<{ id: number }>(app, 'POST', `/api/projects/${projectId}/issues`, { name: `replayed ${i}`, type: 'bb.issue.general' })).json;
    await grow(store, issue.id, projectId, perIssue - 1);
  }
  const hook = (await call<{ id: number }>(app, 'POST', `/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'sink', url: 'https://sink.example.com/hook', activityTypes: ['bb.issue.create', 'bb.issue.field.update'] })).json;
  let start = performance.now();
  const replay = await call<{ count: number }>(app, 'POST', `/api/projects/${projectId}/webhooks/${hook.id}/replay`, { from: 'position:1' });
  const replaySeconds = (performance.now() - start) / 1000;
  if (replay.status !== 202) throw new Error(`replay answered ${replay.status}`);
  const rate = replay.json.count / replaySeconds;
  const rawSeconds = rawDeliveryWrites(dir, join(dir, 'replay.sqlite'));
  const rebuilder = new ProjectionRebuilder(store, [userAggregate, projectAggregate, issueAggregate]);
  start = performance.now();
  const { events: rebuilt } = await rebuilder.rebuild({ requestedBy: 'bench' });
  const rebuildRate = rebuilt / ((performance.now() - start) / 1000);
  await app.close();
  return {
    name: `(h) replay to one Custom webhook (deliveries scheduled/s)`,
    herald: `${fmt(rate)} (${fmt(replay.json.count)} deliveries in ${replaySeconds.toFixed(1)} s)`,
    baseline: `${fmt(cRebuildRate)} events/s: (c) projection rebuild`,
    ratio: rate / cRebuildRate,
    target: 0.5,
    note:
      `a rebuild of the replayed ${fmt(rebuilt)}-event log itself (10 streams) ran at ${fmt(rebuildRate)} events/s: the replay is ${(rate / rebuildRate).toFixed(2)} of that. ` +
      `Only writing the replay's ${fmt(replay.json.count)} delivery rows again, raw (better-sqlite3, the table and its indexes, 1,000 a transaction), took ${rawSeconds.toFixed(1)} s: ${fmt(replay.json.count / rawSeconds)} rows/s`,
  };
}

/**
 * The floor under (h): the replay's delivery rows written again by a bare loop into a new
 * database with the same table and indexes, 1,000 rows a transaction (the replay's page).
 */
function rawDeliveryWrites(dir: string, source: string): number {
  const from = openSqlite(source, { readonly: true });
  const schema = from.prepare(`SELECT sql FROM sqlite_master WHERE tbl_name = 'webhook_deliveries' AND sql IS NOT NULL`).all() as { sql: string }[];
  const rows = from.prepare(`SELECT * FROM webhook_deliveries ORDER BY event_position`).raw().all() as unknown[][];
  from.close();
  const raw = openSqlite(join(dir, 'raw-deliveries.sqlite'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  for (const { sql } of schema) raw.exec(sql);
  const insert = raw.prepare(`INSERT INTO webhook_deliveries VALUES (${rows[0].map(() => '?').join(', ')})`);
  const page = raw.transaction((chunk: unknown[][]) => {
    for (const row of chunk) insert.run(...row);
  });
  const start = performance.now();
  for (let i = 0; i < rows.length; i += 1000) page(rows.slice(i, i + 1000));
  const seconds = (performance.now() - start) / 1000;
  raw.close();
  return seconds;
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
  const time = async (url: string) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const res = await inject(app, 'GET', url);
      ms.push(performance.now() - start);
      if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
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
    baseline: `the issue’s raw event stream (GET …/events, all 1,000): p50 ${percentile(events, 50).toFixed(1)}, p99 ${percentile(events, 99).toFixed(1)}; ratio = 50 ms / the worse p99`,
    ratio: 50 / p99,
    target: 1,
    note: `the whole history, page after page: ${pages} pages in ${walkMs.toFixed(0)} ms`,
  };
}
