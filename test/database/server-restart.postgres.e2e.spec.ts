import pg from 'pg';
import { ChildHerald } from '../support/child-herald.js';
import { commentOf, tallyDeliveries } from '../support/delivery-tally.js';
import { startEmbedded, type EmbeddedPostgres } from '../support/postgres-global-setup.js';
import { Receiver } from '../support/receiver.js';

/**
 * PostgreSQL stopped under a running Herald (a real process, under load) and started again
 * on the same data: a server of the test's own, not the one the other suites share.
 */
const TOKEN = 'restart-admin-token-0123456789ab';
/** How soon after the server accepts connections again everything must work as before. */
const RECOVERY_MS = 5000;

interface Answer {
  at: number;
  k: number;
  status: number;
  body: any;
  retryAfter: string | null;
  contentType: string | null;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read().catch(() => undefined as T);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('PostgreSQL stopped and started again under load', () => {
  it('answers 503 while it is down, is not ready, and recovers commands, subscription, LISTEN and deliveries within 5 s, losing and doubling nothing', async () => {
    const server: EmbeddedPostgres = await startEmbedded(`restart-${process.pid}`);
    const receiver = await new Receiver().start();
    const herald = new ChildHerald({
      DATABASE_URL: server.url,
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_PG_CONNECT_TIMEOUT_MS: '2000',
      HERALD_RATE_LIMIT_PER_MINUTE: '0',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'info',
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${herald.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') };
    };
    let loading = true;
    let load: Promise<unknown> = Promise.resolve();
    try {
      await herald.start();
      const project = (await call('POST', '/api/projects', { name: 'Restart' })).body;
      await call('POST', `/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'sink', url: receiver.url(), activityTypes: ['bb.issue.comment.create'] });
      const issue = (await call('POST', `/api/projects/${project.id}/issues`, { name: 'Under load', type: 'bb.issue.general' })).body;

      // four clients comment until told to stop, each comment numbered
      const answers: Answer[] = [];
      let n = 0;
      const client = async () => {
        while (loading) {
          const k = n++;
          const answer = await call('POST', `/api/issues/${issue.id}/comments`, { content: `#${k}` });
          answers.push({ at: performance.now(), k, ...answer });
          if (answer.status !== 201) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      load = Promise.all([client(), client(), client(), client()]);
      await until(async () => answers.filter((a) => a.status === 201).length, (count) => count >= 20, 'commands before the stop');

      await server.stopServer();
      const stoppedAt = performance.now();
      await until(async () => answers.filter((a) => a.at > stoppedAt && a.status === 503).length, (count) => count >= 10, '503s while the server is down');
      const ready = await call('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.database).toMatchObject({ status: 'down', message: expect.stringMatching(/^storage unavailable: the (connection to the )?database server/) });
      expect(['unreachable', 'shutting-down']).toContain(ready.body.error.database.reason);
      expect((await call('GET', '/health/live')).status).toBe(200);
      expect(await (await fetch(`${herald.base}/metrics`)).text()).toMatch(/^herald_storage_available 0$/m);
      // down for a while, the load going on
      await new Promise((resolve) => setTimeout(resolve, 1500));

      await server.startServer();
      const upAt = performance.now();
      const acknowledgedBeforeUp = answers.filter((a) => a.status === 201).map((a) => a.body.id as number);
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        const [commandsBack, readyBack, listening, delivered] = await Promise.all([
          until(async () => answers.find((a) => a.at > upAt && a.status === 201), Boolean, 'a command accepted again').then(() => performance.now() - upAt),
          until(() => call('GET', '/health/ready'), (r) => r.status === 200, 'readiness again').then(() => performance.now() - upAt),
          until(
            async () => (await admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'herald-listen' AND query = 'LISTEN herald_log'`)).rows[0].n,
            (count) => Number(count) === 1,
            'the LISTEN connection again',
          ).then(() => performance.now() - upAt),
          until(
            async () => new Set(receiver.received.map(commentOf)),
            (ids) => acknowledgedBeforeUp.every((id) => ids.has(id)),
            'a delivery of every comment acknowledged before the restart',
          ).then(() => performance.now() - upAt),
        ]);
        // milliseconds from the server accepting connections again; none late
        const recovery = { commandsBack, readyBack, listening, delivered };
        expect(Object.entries(recovery).filter(([, ms]) => ms >= RECOVERY_MS)).toEqual([]);
      } finally {
        await admin.end();
      }
      loading = false;
      await load;

      // every answer is a 201 or a 503 problem with Retry-After: never a 500
      const accepted = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status === 503);
      expect(accepted.length + refused.length).toBe(answers.length);
      for (const answer of refused) {
        expect(answer.contentType).toBe('application/problem+json; charset=utf-8');
        expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
        expect(answer.body).toMatchObject({ type: 'urn:herald:problem:storage-unavailable', status: 503, detail: expect.stringMatching(/^storage unavailable: /) });
      }

      // every 201 is there; a refused comment is not, unless its 503 said the connection was lost while committing
      const comments = (await call('GET', `/api/issues/${issue.id}/comments`)).body as { id: number; content: string }[];
      const present = new Set(comments.map((c) => c.content));
      for (const answer of accepted) expect(present.has(`#${answer.k}`)).toBe(true);
      const mayHaveApplied = new Set(refused.filter((a) => /may have been applied/.test(a.body.detail)).map((a) => `#${a.k}`));
      const accepted201 = new Set(accepted.map((a) => `#${a.k}`));
      expect([...present].filter((content) => !accepted201.has(content) && !mayHaveApplied.has(content))).toEqual([]);

      // every comment delivered, under one webhook-id; a second request with that id only where its result could not be recorded
      const ids = comments.map((c) => c.id);
      await until(async () => new Set(receiver.received.map(commentOf)), (seen) => ids.every((id) => seen.has(id)), 'every delivery', 30_000);
      // counted once nothing more can come: the queue holds nothing more to send, and the process has stopped
      // (letting what it had in flight finish); its log is then complete too
      const db = new pg.Client({ connectionString: server.url });
      await db.connect();
      try {
        await until(async () => (await db.query(`SELECT id FROM webhook_deliveries WHERE status <> 'DELIVERED'`)).rowCount, (left) => left === 0, 'every delivery recorded as delivered', 30_000);
      } finally {
        await db.end();
      }
      expect(await herald.stop()).toBe(0);
      const log = herald.logLines();
      const { idsByComment, unexplainedRepeats } = tallyDeliveries(receiver.received, log);
      expect([...idsByComment.keys()].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
      expect([...idsByComment.values()].every((set) => set.size === 1)).toBe(true);
      expect(unexplainedRepeats).toEqual([]);

      // in the log: the outage once, the LISTEN connection lost once and back once, no error
      expect(log.filter((l) => l.context === 'Storage').map((l) => l.event)).toEqual(['storage-unavailable', 'storage-available']);
      expect(log.filter((l) => l.context === 'PostgresEventStore').map((l) => l.msg)).toEqual([
        'the LISTEN connection was lost; polling each second until it is back',
        'the LISTEN connection is back: other instances’ commits wake this one again',
      ]);
      expect(log.filter((l) => Number(l.level) >= 50)).toEqual([]);
    } finally {
      loading = false;
      await load.catch(() => undefined);
      await herald.shutdown();
      await receiver.stop();
      await server.stop();
    }
  }, 180_000);
});
