/** Webhook benchmarks: end-to-end latency and delivery throughput against a raw undici loop. */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { EventStore } from '../src/event-store/event-store.js';
import { CHANNEL_SENDER } from '../src/webhooks/delivery/channel-send.js';
import { DeliveryDispatcher } from '../src/webhooks/delivery/dispatcher.js';
import { InlineWhenQuiet } from '../src/webhooks/delivery/inline-when-quiet.js';
import { WebhookSubscription } from '../src/webhooks/subscription/webhook-subscription.js';
import { startReceiver } from './receiver-process.js';
import { serverExecArgv } from './profile.js';

const TOKEN = 'bench-admin-token-0123456789';
/** Lets a local receiver stand in for any provider's host. */
export const LOCAL = { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_EXTRA_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true', HERALD_RATE_LIMIT_PER_MINUTE: '0' };

export interface Row {
  name: string;
  herald: string;
  baseline: string;
  ratio: number;
  target: number;
  note?: string;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU time (ms) of this process's main thread so far, from Linux's per-thread counters (utime +
 * stime, in ticks of 10 ms); undefined elsewhere. It tells what the service's own thread spends,
 * apart from the sending threads, and holds on a busy machine, where wall-clock rates do not.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** µs of the main thread's CPU per item between two readings of mainThreadCpuMs. */
const cpuPer = (before: number | undefined, after: number | undefined, items: number) => (before === undefined || after === undefined ? undefined : ((after - before) * 1000) / items);

/**
 * A receiver in this process, answering at once: an arrival is timed on the same clock as the command's response
 * (two processes' clocks differ by more than the latencies measured). Keeps each issue's first arrival.
 */
async function receiverHere(arrivals: Map<number, number>): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"code":0,"message":""}');
      const issueId = (JSON.parse(Buffer.concat(chunks).toString()) as { issue?: { id: number } }).issue?.id;
      if (issueId !== undefined && !arrivals.has(issueId)) arrivals.set(issueId, at);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A command's HTTP response → the receiver holding its webhook, at a steady 100 commands/s: p50 and p99 in ms. A
 * webhook can reach the receiver before the client has read its command's response: that latency is negative
 * (kept as it is, and counted).
 */
export async function latencyRun(dir: string, run: number): Promise<{ p50: number; p99: number; arrived: number; of: number; early: number }> {
  const arrivals = new Map<number, number>();
  const receiver = await receiverHere(arrivals);
  const port = 19000 + Math.floor(Math.random() * 1000);
  const server = fork(join(import.meta.dirname, 'server.js'), [], {
    execArgv: serverExecArgv,
    env: { ...process.env, ...LOCAL, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, `latency-${run}.sqlite`)}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => server.once('message', resolve));
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 10 });
  const call = async (path: string, body: unknown) => {
    const res = await pool.request({ path, method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.body.json()) as { id: number };
  };
  const project = await call('/api/projects', { name: 'Latency' });
  await call(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'sink', url: `http://127.0.0.1:${receiver.port}/hook`, activityTypes: ['bb.issue.create'] });
  const responded = new Map<number, number>();
  const N = 1000;
  const WARM_UP = 200; // the first 2 s (JIT, statement caches, connection pools) are not measured
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < N + WARM_UP; i++) {
    const due = start + i * 10; // 100 commands per second
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      call(`/api/projects/${project.id}/issues`, { name: `latency ${i}`, type: 'bb.issue.general' }).then((issue) => {
        if (i >= WARM_UP) responded.set(issue.id, performance.now());
      }),
    );
  }
  await Promise.all(pending);
  const deadline = Date.now() + 30_000;
  while (arrivals.size < N + WARM_UP && Date.now() < deadline) await sleep(20);
  const lat = [...responded].filter(([id]) => arrivals.has(id)).map(([id, at]) => arrivals.get(id)! - at);
  await pool.close();
  server.kill('SIGTERM');
  await receiver.close();
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), arrived: lat.length, of: N, early: lat.filter((ms) => ms < 0).length };
}

/** Five consecutive runs of latencyRun, each on a fresh server and database: the targets hold in every one, or not. */
export async function latency(dir: string, runs = 5): Promise<Row> {
  const results = [];
  for (let run = 1; run <= runs; run++) results.push(await latencyRun(dir, run));
  const met = results.filter((r) => r.p50 < 10 && r.p99 < 50 && r.arrived === r.of).length;
  return {
    name: `(d) command response → webhook at the receiver, 100 commands/s, ${runs} consecutive runs`,
    herald: results
      .map((r, i) => `run ${i + 1}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms${r.early > 0 ? ` (${r.early} before their response)` : ''}${r.arrived < r.of ? ` (${r.arrived}/${r.of} arrived!)` : ''}`)
      .join('; '),
    baseline: 'targets p50 < 10 ms, p99 < 50 ms in every run',
    ratio: met / runs,
    target: 1,
    note:
      `ratio column: the share of the ${runs} runs (1,000 commands each after 200 of warm-up) meeting both latency targets. ` +
      'The receiver runs in the bench process: the command\'s response and the webhook\'s arrival are timed on one clock; a webhook that ' +
      'arrived before its command\'s response was read counts with its negative latency',
  };
}

/** Deliveries per second from the dispatcher alone (the queue filled first), vs raw undici POSTs at the same concurrency. */
export async function throughput(dir: string, webhooks: number, deliveries: number): Promise<Row> {
  const receiver = await startReceiver();
  const env = { ...process.env, ...LOCAL, DATABASE_URL: `sqlite:${join(dir, `throughput-${webhooks}.sqlite`)}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', HERALD_BACKGROUND_WORKERS: 'false' };
  const config = loadConfig(env);
  const threads = config.webhooks.threads;
  const { app } = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 10 });
  const call = async (path: string, body: unknown) => {
    const res = await pool.request({ path, method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.body.json()) as { id: number };
  };
  const project = await call('/api/projects', { name: `Throughput ${webhooks}` });
  for (let w = 0; w < webhooks; w++) {
    await call(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: `sink ${w}`, url: `http://127.0.0.1:${receiver.port}/hook/${w}`, activityTypes: ['bb.issue.create'] });
  }
  const issues = Math.ceil(deliveries / webhooks);
  for (let i = 0; i < issues; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, issues - i) }, (_, k) => call(`/api/projects/${project.id}/issues`, { name: `t ${i + k}`, type: 'bb.issue.general' })));
  }
  await app.get(WebhookSubscription).catchUp();
  const total = issues * webhooks;
  const store = app.get(EventStore);
  const statementsBefore = store.roundTrips;
  let start = performance.now();
  let cpuBefore = mainThreadCpuMs();
  const dispatcher = app.get(DeliveryDispatcher);
  const sender: unknown = app.get(CHANNEL_SENDER);
  const split = sender instanceof InlineWhenQuiet ? { ...sender.sent } : undefined;
  // every delivery once: a request sent twice does not stand in for one not sent yet
  while (receiver.deliveries < total) {
    const made = await dispatcher.runOnce();
    if (made === 0) await sleep(5);
  }
  const heraldRate = total / ((performance.now() - start) / 1000);
  const heraldCpu = cpuPer(cpuBefore, mainThreadCpuMs(), total);
  const twice = receiver.requests - receiver.deliveries;
  const statements = (store.roundTrips - statementsBefore) / total;
  // who sent the timed deliveries: the service's thread (a lone one in flight) or a sending thread
  const inline = split && sender instanceof InlineWhenQuiet ? sender.sent.inline - split.inline : undefined;
  // one request as Herald sent it (its body and headers, the signature included): the raw loop sends the same bytes
  const recorded = await store.queryOne<{ request: string }>(`SELECT request FROM webhook_delivery_attempts ORDER BY delivery_id LIMIT 1`);
  const { headers, body } = JSON.parse(recorded!.request) as { headers: Record<string, string>; body: string };
  await pool.close();
  await app.close();

  // the same POSTs, raw, at the same concurrency (one in flight per webhook)
  const raw = new Pool(`http://127.0.0.1:${receiver.port}`, { connections: webhooks });
  receiver.reset();
  start = performance.now();
  cpuBefore = mainThreadCpuMs();
  await Promise.all(
    Array.from({ length: webhooks }, async (_, w) => {
      for (let i = 0; i < issues; i++) {
        const res = await raw.request({ path: `/hook/${w}`, method: 'POST', headers, body });
        await res.body.text();
      }
    }),
  );
  const rawRate = total / ((performance.now() - start) / 1000);
  const rawCpu = cpuPer(cpuBefore, mainThreadCpuMs(), total);
  await raw.close();
  receiver.stop();
  return {
    name: `(e) deliveries/s, ${webhooks} webhook${webhooks > 1 ? 's' : ''} (${total} deliveries)`,
    herald: `${Math.round(heraldRate).toLocaleString('en-US')} (${statements.toFixed(2)} SQLite statements per delivery)${twice > 0 ? ` (${twice} sent twice)` : ''}`,
    baseline: `${Math.round(rawRate).toLocaleString('en-US')} raw undici POSTs of the same request (${body.length} bytes), concurrency ${webhooks}`,
    ratio: heraldRate / rawRate,
    target: 0.5,
    note:
      `the service's main thread spent ${heraldCpu === undefined ? 'an unmeasured time' : `${Math.round(heraldCpu)} µs of CPU`} per delivery, the raw loop's ${rawCpu === undefined ? 'an unmeasured time' : `${Math.round(rawCpu)} µs`} per request ` +
      `(both count the receiver's tally of each arrival); channel messages are rendered, signed and sent by ${threads === 0 ? 'the main thread itself (WEBHOOK_THREADS=0)' : `${threads} sending thread${threads > 1 ? 's' : ''} beside it`}` +
      (inline === undefined ? '' : `, ${inline} of the ${total} by the main thread (each the only one in flight)`),
  };
}
