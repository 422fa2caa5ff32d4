/**
 * What tracing costs: (b) and (e) with tracing on, exporting every span over OTLP/HTTP (protobuf) to a local stand-in
 * collector that only counts them (./span-sink.ts, a process of its own), against the same with tracing off.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { DeliveryDispatcher } from '../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../src/webhooks/subscription/webhook-subscription.js';
import { startReceiver } from './receiver-process.js';
import type { Row } from './webhooks.js';

const TOKEN = 'bench-admin-token-0123456789';
const LOCAL = { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_EXTRA_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sink {
  env: NodeJS.ProcessEnv;
  spans(): Promise<number>;
  stop(): void;
}

async function startSink(): Promise<Sink> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'span-sink.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    // the SDK's defaults otherwise (batches of up to 512 spans, every 5 s at the latest)
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    spans: () =>
      new Promise((resolve) => {
        child.once('message', (m: { spans: number }) => resolve(m.spans));
        child.send('count');
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

interface CommentServer {
  /** Comments for `seconds` over 10 connections: req/s and p99 (ms). */
  run(seconds: number): Promise<{ rate: number; p99: number }>;
  stop(): Promise<void>;
}

/** (b)'s server: a process of its own, with one issue to comment on. */
async function commentServer(dir: string, name: string, env: NodeJS.ProcessEnv): Promise<CommentServer> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = fork(join(import.meta.dirname, 'server.js'), [], {
    env: { ...process.env, ...env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, `tracing-${name}.sqlite`)}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', HERALD_RATE_LIMIT_PER_MINUTE: '0' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const created = async (path: string, body: unknown) => (await (await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { id: number };
  const project = await created('/api/projects', { name: 'Bench' });
  const issue = await created(`/api/projects/${project.id}/issues`, { name: 'bench', type: 'bb.issue.general' });
  return {
    async run(seconds) {
      const result = (await autocannon({
        url: `${base}/api/issues/${issue.id}/comments`,
        method: 'POST',
        headers,
        body: JSON.stringify({ content: 'a comment from the benchmark' }),
        connections: 10,
        duration: seconds,
      })) as autocannon.Result;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`tracing bench (${name}): ${result.non2xx} non-2xx, ${result.errors} errors`);
      return { rate: result.requests.average, p99: result.latency.p99 };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * (b) with tracing off and on: both servers started once, then loaded in turn, `slices` short runs each, the order
 * alternating: a machine whose load moves (it is shared) moves both sides alike, where runs a minute apart would not.
 */
async function comments(dir: string, sinkEnv: NodeJS.ProcessEnv, slices: number, seconds = 3): Promise<{ off: { rate: number; p99: number }[]; on: { rate: number; p99: number }[] }> {
  const servers = { off: await commentServer(dir, 'off', {}), on: await commentServer(dir, 'on', sinkEnv) };
  try {
    // warm-up
    await servers.off.run(3);
    await servers.on.run(3);
    return await pairs(slices, (tracing) => servers[tracing].run(seconds));
  } finally {
    await servers.off.stop();
    await servers.on.stop();
  }
}

/** (e): deliveries/s from the dispatcher alone, 50 webhooks, the queue filled first by traced commands; in this process. */
async function deliveries(dir: string, name: string, env: NodeJS.ProcessEnv, webhooks = 50, total = 5000): Promise<number> {
  const receiver = await startReceiver();
  const { app } = await createApp(loadConfig({ ...process.env, ...LOCAL, ...env, DATABASE_URL: `sqlite:${join(dir, `tracing-e-${name}.sqlite`)}`, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', HERALD_BACKGROUND_WORKERS: 'false' }));
  try {
    await app.listen(0, '127.0.0.1');
    const pool = new Pool(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, { connections: 10 });
    const call = async (path: string, body: unknown) => {
      const res = await pool.request({ path, method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.body.json()) as { id: number };
    };
    const project = await call('/api/projects', { name: `Tracing ${name}` });
    for (let w = 0; w < webhooks; w++) {
      await call(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: `sink ${w}`, url: `http://127.0.0.1:${receiver.port}/hook/${w}`, activityTypes: ['bb.issue.create'] });
    }
    const issues = Math.ceil(total / webhooks);
    for (let i = 0; i < issues; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, issues - i) }, (_, k) => call(`/api/projects/${project.id}/issues`, { name: `t ${i + k}`, type: 'bb.issue.general' })));
    }
    await pool.close();
    await app.get(WebhookSubscription).catchUp();
    const dispatcher = app.get(DeliveryDispatcher);
    const start = performance.now();
    while (receiver.deliveries < issues * webhooks) {
      if ((await dispatcher.runOnce()) === 0) await sleep(5);
    }
    return (issues * webhooks) / ((performance.now() - start) / 1000);
  } finally {
    await app.close();
    receiver.stop();
  }
}

/** Paired runs, off and on, the order alternating from one pair to the next (a machine whose load drifts favours neither side). */
async function pairs<T>(rounds: number, run: (tracing: 'off' | 'on', round: number) => Promise<T>): Promise<{ off: T[]; on: T[] }> {
  const off: T[] = [];
  const on: T[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (round % 2 === 1) {
      off.push(await run('off', round));
      on.push(await run('on', round));
    } else {
      on.push(await run('on', round));
      off.push(await run('off', round));
    }
  }
  return { off, on };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** Each pair's on/off ratio: their median, and their range (the spread a shared machine gives). */
const spread = (off: number[], on: number[]) => {
  const ratios = on.map((rate, i) => rate / off[i]);
  return { ratios, median: median(ratios), text: `pairs' ratios ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}, range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` };
};

/**
 * Tracing off and on in pairs (HERALD_BENCH_TRACING_ROUNDS, 4 by default: 12 pairs of (b)'s short runs, 4 of (e)'s):
 * the machine is shared, and a load spike hits one run, not one side. The ratio is that of the means; each pair's
 * own ratio shows the spread.
 */
export async function tracingCost(dir: string, rounds = Number(process.env.HERALD_BENCH_TRACING_ROUNDS) || 4): Promise<Row[]> {
  const sink = await startSink();
  try {
    const commentRuns = await comments(dir, sink.env, rounds * 3);
    const afterComments = await sink.spans();
    const deliveryRuns = await pairs(rounds, (tracing, round) => deliveries(dir, `${tracing}-${round}`, tracing === 'on' ? sink.env : {}));
    const afterDeliveries = (await sink.spans()) - afterComments;
    const [off, on] = [commentRuns.off, commentRuns.on];
    const commentsOff = { rate: mean(off.map((r) => r.rate)), p99: Math.max(...off.map((r) => r.p99)) };
    const commentsOn = { rate: mean(on.map((r) => r.rate)), p99: Math.max(...on.map((r) => r.p99)) };
    const deliveriesOff = mean(deliveryRuns.off);
    const deliveriesOn = mean(deliveryRuns.on);
    return [
      {
        name: `(b) HTTP comments on one issue, tracing on (req/s, 10 connections, ${rounds * 3} pairs of 3 s runs)`,
        herald: `${fmt(commentsOn.rate)} (runs: ${on.map((r) => fmt(r.rate)).join(', ')}), p99 ≤ ${commentsOn.p99} ms; ${fmt(afterComments)} spans exported`,
        baseline: `tracing off: ${fmt(commentsOff.rate)} (runs: ${off.map((r) => fmt(r.rate)).join(', ')}), p99 ≤ ${commentsOff.p99} ms`,
        ratio: commentsOn.rate / commentsOff.rate,
        target: 0.9,
        note:
          `${spread(off.map((r) => r.rate), on.map((r) => r.rate)).text}. Every request traced (parentbased_always_on): a server span and its transaction's span (named after its append; the ` +
          'project has no webhooks, so its events make no scheduling span), exported in batches over OTLP/HTTP protobuf, from the export thread, to a stand-in collector in a process of its own that only counts them; synchronous=FULL',
      },
      {
        name: `(e) deliveries/s, 50 webhooks, tracing on (5000 deliveries, ${rounds} pairs of runs)`,
        herald: `${fmt(deliveriesOn)} (runs: ${deliveryRuns.on.map(fmt).join(', ')}); ${fmt(afterDeliveries)} spans exported, commands included`,
        baseline: `tracing off: ${fmt(deliveriesOff)} (runs: ${deliveryRuns.off.map(fmt).join(', ')})`,
        ratio: deliveriesOn / deliveriesOff,
        target: 0.9,
        note:
          `${spread(deliveryRuns.off, deliveryRuns.on).text}. The deliveries of traced commands: a schedule span per event, a create span per delivery and a send span per attempt (with its ` +
          'traceparent header). The SDK queues at most 2,048 spans (OTEL_BSP_MAX_QUEUE_SIZE) and drops what a burst adds beyond that: the spans exported fall short of the 10,402 made per run (counted with a queue that drops none) by what was dropped',
      },
    ];
  } finally {
    sink.stop();
  }
}
