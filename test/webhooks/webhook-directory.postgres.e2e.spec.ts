import { randomBytes } from 'node:crypto';
import { WebhookDirectory } from '../../src/webhooks/config/webhook-directory.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/** Two instances on one database: what one changes about a webhook (its URL, its health) reaches the other's memory through the log. */
describe('the webhooks as another instance knows them', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  const receivers: Receiver[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
    for (const r of receivers) await r.stop();
    await database?.drop();
  });

  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('a new URL and a disabling made through one instance apply to the next delivery of the other', async () => {
    database = await createTestDatabase();
    const dir = tempDir('herald-directory-');
    const env = { ...LOCAL_WEBHOOK_ENV, DATABASE_URL: database.url, HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
    // (engine sqlite only keeps startTestApp from making a database of its own: DATABASE_URL above is the shared one)
    const a = await startTestApp({ dir, env, engine: 'sqlite' });
    apps.push(a);
    const b = await startTestApp({ dir, env, engine: 'sqlite' });
    apps.push(b);
    const [first, second] = [await new Receiver().start(), await new Receiver().start()];
    receivers.push(first, second);
    const pumpB = async () => {
      await b.app.get(WebhookSubscription).catchUp();
      return b.app.get(DeliveryDispatcher).runOnce();
    };

    const project = await api(a).createProject('Directory');
    const hook = await api(a).post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'h', url: first.url(), activityTypes: ['bb.issue.create'] }, 201);
    await api(a).createIssue(project.id, { name: 'one' });
    expect(await pumpB()).toBe(1);

    await a.http.patch(`/api/projects/${project.id}/webhooks/${hook.id}`).set(a.auth).send({ url: second.url('/moved') }).expect(200);
    const known = () => b.app.get(WebhookDirectory).get(hook.id);
    await until(async () => (await known())?.urlMasked.includes(`:${second.port}`) === true, 'instance B to learn the new URL');
    await api(a).createIssue(project.id, { name: 'two' });
    expect(await pumpB()).toBe(1);
    expect(second.received.map((r) => r.json.title)).toEqual(['Issue created - two']);

    // the endpoint is gone: A's attempt disables the webhook; B skips what comes due afterwards
    second.answer({ status: 410, body: 'gone' });
    await api(a).createIssue(project.id, { name: 'three' });
    await b.app.get(WebhookSubscription).catchUp(); // B holds the subscription's lease
    expect(await a.app.get(DeliveryDispatcher).runOnce()).toBe(1);
    await until(async () => (await known())?.health.state === 'DISABLED', 'instance B to learn the webhook is disabled');
    await api(a).createIssue(project.id, { name: 'four' });
    expect(await pumpB()).toBe(0);
    expect(second.received.map((r) => r.json.title)).toEqual(['Issue created - two', 'Issue created - three']);
    const statuses = (await api(b).get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`)).items.map((d: { status: string }) => d.status);
    expect(statuses.sort()).toEqual(['DELIVERED', 'DELIVERED', 'FAILED', 'SKIPPED']);
  });
});
