/**
 * What the receivers' shared pace (issue 25, src/webhooks/delivery/shared-pace.ts) costs per delivery,
 * on each engine: 50 webhooks of one project, each sent one message every 2 s (half of Slack's 1 a
 * second: far from the limit, so every message takes its slot at once), as Slack webhooks and, the
 * baseline, as Custom webhooks (no limits: nothing taken per message). The instance's clock is
 * injected and moved 2 s between rounds. Counted: the statements sent to the database while the
 * dispatcher delivered a round and recorded it (EventStore.roundTrips: on PostgreSQL each is a round
 * trip), divided by the deliveries.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { EventStore } from '../src/event-store/event-store.js';
import { ManualClock } from '../src/shared/clock.js';
import { DeliveryDispatcher } from '../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../src/webhooks/subscription/webhook-subscription.js';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { startReceiver } from './receiver-process.js';
import type { Row } from './webhooks.js';

const TOKEN = 'bench-admin-token-0123456789';
const LOCAL = { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_EXTRA_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
const WEBHOOKS = 50;
const ROUNDS = 20;

/** Statements per delivery for WEBHOOKS webhooks of this type, ROUNDS rounds of one message each (after one round of warm-up). */
async function statementsPerDelivery(databaseUrl: string, dir: string, type: 'SLACK' | 'CUSTOM'): Promise<number> {
  const receiver = await startReceiver();
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const env = { ...LOCAL, DATABASE_URL: databaseUrl, HERALD_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', HERALD_BACKGROUND_WORKERS: 'false' };
  const { app } = await createApp(loadConfig(env, dir), { clock });
  try {
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const call = async (path: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: number };
    };
    const project = await call('/api/projects', { name: `Pace ${type}` });
    for (let w = 0; w < WEBHOOKS; w++) {
      const path = type === 'SLACK' ? `/services/T${w}/B${w}/x` : `/hook/${w}`;
      await call(`/api/projects/${project.id}/webhooks`, { type, name: `sink ${w}`, url: `http://127.0.0.1:${receiver.port}${path}`, activityTypes: ['bb.issue.create'] });
    }
    const store = app.get(EventStore);
    const dispatcher = app.get(DeliveryDispatcher);
    let statements = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      await call(`/api/projects/${project.id}/issues`, { name: `round ${round}`, type: 'bb.issue.general' });
      await app.get(WebhookSubscription).catchUp();
      const before = store.roundTrips;
      const made = await dispatcher.runOnce();
      if (made !== WEBHOOKS) throw new Error(`${type}: round ${round} made ${made} attempts, not ${WEBHOOKS}`);
      if (round > 0) statements += store.roundTrips - before;
      clock.advance(2_000);
    }
    return statements / (WEBHOOKS * ROUNDS);
  } finally {
    await app.close();
    receiver.stop();
  }
}

async function engineRow(name: string, unit: string, databaseUrl: (type: string) => Promise<string>, dir: string, note: string): Promise<Row> {
  const custom = await statementsPerDelivery(await databaseUrl('custom'), dir, 'CUSTOM');
  const slack = await statementsPerDelivery(await databaseUrl('slack'), dir, 'SLACK');
  const pace = slack - custom;
  return {
    name,
    herald: `${slack.toFixed(2)} ${unit} per delivery: the shared pace ${pace >= 0 ? '+' : ''}${pace.toFixed(2)}`,
    baseline: `${custom.toFixed(2)} with ${WEBHOOKS} Custom webhooks (no limits, nothing taken per message), same run`,
    // the pace costs its one transaction per message: BEGIN, the upsert, COMMIT
    ratio: 3 / Math.max(pace, 0.01),
    target: 0.9,
    note,
  };
}

export async function paceCost(dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(
    await engineRow(
      `(g) SQLite statements per delivery to receivers with limits, ${WEBHOOKS} Slack webhooks at half their limit`,
      'SQLite statements',
      async (type) => `sqlite:${join(dir, `pace-${type}.sqlite`)}`,
      dir,
      `${ROUNDS} rounds (after one of warm-up) of one issue, each sent by every webhook, the clock moved 2 s between rounds: every message takes its slot at once. ` +
        'ratio column: 3 / what the pace adds per delivery. The take is one write transaction (3 statements: BEGIN, the upsert of the receiver\'s row, COMMIT); ' +
        'target: within about 10 % of that (the records of the attempts around it may batch a little differently). The baseline costs as much as it does because ' +
        'each webhook has one delivery per round: a claim of its own, its share of the records',
    ),
  );
  const given = process.env.DATABASE_URL_POSTGRES;
  const server = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-pace', { durable: true });
  const created: string[] = [];
  try {
    const database = async (type: string) => {
      const name = `herald_bench_pace_${type}_${randomBytes(3).toString('hex')}`;
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      await client.end();
      created.push(name);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    };
    rows.push(
      await engineRow(
        `(g) PostgreSQL round trips per delivery to receivers with limits, ${WEBHOOKS} Slack webhooks at half their limit`,
        'round trips',
        database,
        dir,
        'as on SQLite, on PostgreSQL (durable, the same machine): the take is a transaction of its own, not durable (no WAL flush waited for). ' +
          'A receiver without limits (Custom) takes nothing per message: its block comes back with the claim of its deliveries, in the same statement',
      ),
    );
  } finally {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
    await server.stop();
  }
  return rows;
}
