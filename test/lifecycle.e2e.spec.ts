import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ChildHerald } from './support/child-herald.js';
import { queryDatabase } from './support/database-query.js';
import { Receiver } from './support/receiver.js';
import { tempDir, testDatabaseUrl } from './support/test-app.js';

const TOKEN = 'lifecycle-admin-token-0123456789';

describe('the service as a process', () => {
  it('refuses a wrong configuration with one message naming the variable and the rule', () => {
    for (const [name, value, rule] of [
      ['PORT', 'eighty', /PORT must be an integer from 0 to 65535/],
      ['WEBHOOK_RETRY_SCHEDULE', '5s,soon', /WEBHOOK_RETRY_SCHEDULE must be comma-separated durations/],
      ['WEBHOOK_ALLOWED_CIDRS', '10.0.0.0/33', /WEBHOOK_ALLOWED_CIDRS must be comma-separated CIDR ranges/],
      ['HERALD_SECRET_KEY', 'short', /HERALD_SECRET_KEY must be 32 bytes/],
      ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be unset or sqlite:<path>/],
    ] as const) {
      const run = spawnSync(process.execPath, ['dist/src/main.js'], { env: { PATH: process.env.PATH, [name]: value }, encoding: 'utf8', timeout: 15_000 });
      expect({ name, status: run.status, stderr: run.stderr.trim().split('\n').length }).toEqual({ name, status: 2, stderr: 1 });
      expect(run.stderr).toMatch(rule);
    }
  });

  it('prints where it listens, its database file and the new admin token on the first screen of a first start', async () => {
    // as `npm start` in a new folder: no DATABASE_URL, no HERALD_ADMIN_TOKEN, the default log level
    const herald = await new ChildHerald({ LOG_LEVEL: 'info' }).start();
    try {
      await herald.waitForOutput(/admin token/);
      const lines = herald.output.split('\n');
      const last = lines.findIndex((line) => /admin token/.test(line));
      // a terminal's first screen: the framework's start-up lines do not push it away
      expect(last).toBeLessThan(12);
      const banner = lines.slice(0, last + 1).join('\n');
      expect(banner).toMatch(new RegExp(`listening on\\s+http://127\\.0\\.0\\.1:${herald.port}`));
      expect(banner).toMatch(/database\s+\/\S+\/data\/herald\.sqlite/);
      const token = /admin token\s+(hrld_\S+)/.exec(banner)![1];
      const me = await fetch(`${herald.base}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
    } finally {
      await herald.stop();
    }
  });

  it('stops cleanly on SIGTERM under load: nothing accepted is lost, no delivery is left claimed', async () => {
    const receiver = await new Receiver().start();
    receiver.delayMs = 300; // deliveries are in flight when the signal comes
    const dir = tempDir('herald-lifecycle-');
    const env = {
      DATABASE_URL: await testDatabaseUrl(dir),
      HERALD_ADMIN_TOKEN: TOKEN,
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_TIMEOUT_MS: '2000',
    };
    const herald = await new ChildHerald(env).start();
    const call = async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    };
    try {
      const project = (await call(herald.base, 'POST', '/api/projects', { name: 'Lifecycle' })).body;
      await call(herald.base, 'POST', `/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'slow', url: receiver.url(), activityTypes: ['bb.issue.comment.create'] });
      const issue = (await call(herald.base, 'POST', `/api/projects/${project.id}/issues`, { name: 'busy', type: 'bb.issue.general' })).body;
      const outcomes: { status: number; id?: number }[] = [];
      const load = Array.from({ length: 150 }, (_, i) =>
        call(herald.base, 'POST', `/api/issues/${issue.id}/comments`, { content: `load ${i}` })
          .then((r) => outcomes.push({ status: r.status, id: r.body?.id }))
          .catch(() => outcomes.push({ status: 0 })), // no connection once the server stopped listening
      );
      // the signal comes with commands in flight and a delivery held at the receiver (its batch claimed)
      while (outcomes.length < 40 || receiver.received.length === 0) await new Promise((r) => setTimeout(r, 5));
      const exit = herald.stop();
      await Promise.all(load);
      expect(await exit).toBe(0);
      // every request was either accepted (201), or refused because the service was stopping (503, or no connection)
      expect(outcomes.filter((o) => ![201, 503, 0].includes(o.status))).toEqual([]);
      const accepted = outcomes.filter((o) => o.status === 201).map((o) => o.id);
      expect(accepted.length).toBeGreaterThanOrEqual(40);
      // the stopped process gave back every lease it held, as the database shows before anything starts on it again
      // (a restart would free them anyway: on SQLite every other process's leases, as dead)
      const held = await queryDatabase<{ id: string; status: string; lease_owner: string | null }>(env.DATABASE_URL, `SELECT id, status, lease_owner FROM webhook_deliveries WHERE status = 'DELIVERING' OR lease_owner IS NOT NULL`);
      expect(held).toEqual([]);

      await herald.start();
      const comments = (await call(herald.base, 'GET', `/api/issues/${issue.id}/comments`)).body as { id: number }[];
      expect(comments.map((c) => c.id)).toEqual(expect.arrayContaining(accepted));
    } finally {
      await herald.stop();
      await receiver.stop();
    }
  }, 60_000);
});
