import { join } from 'node:path';
import { ChildHerald } from '../support/child-herald.js';
import { caller, until } from '../support/process-calls.js';
import { Receiver } from '../support/receiver.js';
import { tempDir, testDatabaseUrl } from '../support/test-app.js';

const TOKEN = 'crash-test-admin-token-0123456789';
const ALL = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'];

const call = caller(TOKEN);

/** What identifies the event a delivery is for, read from the Custom body. */
const eventKey = (body: any) => `${body.activity_type}|${body.link}|${body.title}`;

describe('crash safety (a real process killed with SIGKILL)', () => {
  it('neither loses nor doubles a delivery when killed before and during delivery', async () => {
    const receiver = await new Receiver().start();
    const herald = new ChildHerald({
      DATABASE_URL: await testDatabaseUrl(tempDir('herald-crash-')),
      HERALD_ADMIN_TOKEN: TOKEN,
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ALLOW_HTTP: 'true',
      // no attempt ends by itself while the receiver holds it (phase 1 may last long on a loaded machine: with a short
      // timeout, four timeouts rested the webhook and nothing came after the restart); a restart frees the leases
      WEBHOOK_TIMEOUT_MS: '60000',
    });
    try {
      await herald.start();
      const project = await call(herald.base, 'POST', '/api/projects', { name: 'Crash' });
      await call(herald.base, 'POST', `/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'sink', url: receiver.url(), activityTypes: ALL });

      // 1. the receiver takes requests but never answers: commands are accepted, nothing is delivered, then SIGKILL
      receiver.delayMs = Infinity;
      for (let i = 0; i < 15; i++) {
        const issue = await call(herald.base, 'POST', `/api/projects/${project.id}/issues`, { name: `crash ${i}`, type: 'bb.issue.general' });
        await call(herald.base, 'POST', `/api/issues/${issue.id}/comments`, { content: `note ${i}` });
      }
      await herald.kill();
      const expected = 30;

      // 2. restarted, with a slow receiver: killed again in the middle of deliveries
      receiver.delayMs = 100;
      const seenBefore = receiver.received.length;
      await herald.start();
      await until(() => receiver.received.length >= seenBefore + 8, 'some deliveries after the first restart', 45_000);
      await herald.kill();

      // 3. restarted once more with a fast receiver: everything arrives
      receiver.delayMs = 0;
      await herald.start();
      const okIds = () => new Set(receiver.received.filter((r) => r.json?.activity_type).map((r) => r.headers['webhook-id'] as string));
      await until(() => okIds().size >= expected && receiver.received.length > 0, `${expected} distinct deliveries`, 45_000);
      const statuses = async () =>
        (await call(herald.base, 'GET', `/api/projects/${project.id}/webhooks/1/deliveries?limit=200`)).items.map((d: { status: string }) => d.status) as string[];
      await until(async () => (await statuses()).every((s) => s === 'DELIVERED'), 'every delivery recorded as delivered', 45_000);
      expect(await statuses()).toHaveLength(expected);
      // and SIGTERM stops it cleanly, letting what it has in flight finish: after that nothing more can arrive
      // (a lease taken over late, a request sent twice), so the count below is final
      expect(await herald.stop()).toBe(0);

      const byEvent = new Map<string, Set<string>>();
      for (const r of receiver.received) {
        const key = eventKey(r.json);
        byEvent.set(key, (byEvent.get(key) ?? new Set()).add(r.headers['webhook-id'] as string));
      }
      expect(byEvent.size).toBe(expected); // every event arrived
      expect([...byEvent.values()].every((ids) => ids.size === 1)).toBe(true); // each under one delivery id only
    } finally {
      await herald.stop();
      await receiver.stop();
    }
  }, 120_000);
});
