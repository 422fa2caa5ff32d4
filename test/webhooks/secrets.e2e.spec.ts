import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { EventStore } from '../../src/event-store/event-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

const URL_TOKEN = 'tok3n-in-the-url-0123456789';
const HEADER_SECRET = 'header-secret-9876543210';
const SECRET_1 = `whsec_${Buffer.from('first-signing-key-0123456789abcdef').toString('base64')}`;
const SECRET_2 = `whsec_${Buffer.from('second-signing-key-0123456789abcd').toString('base64')}`;
const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 9).toString('hex');
const CLEAR = [URL_TOKEN, HEADER_SECRET, SECRET_1, SECRET_2, SECRET_1.slice(6), SECRET_2.slice(6)];

describe('webhook secrets at rest', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await new Receiver().start();
  });
  afterEach(() => receiver.stop());

  const everything = async (t: TestApp) => {
    const store = t.app.get(EventStore);
    const tables = (
      await store.query<{ name: string }>(
        store.engine === 'postgres'
          ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
          : `SELECT name FROM sqlite_master WHERE type = 'table'`,
      )
    ).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['events', 'rm_webhooks', 'webhook_deliveries', 'webhook_delivery_attempts']));
    return JSON.stringify(await Promise.all(tables.map((table) => store.query(`SELECT * FROM "${table}"`))));
  };

  it('keeps URL tokens, signing secrets and header values out of every column, response and log line', async () => {
    const logs: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const t = await startTestApp({ clock, env: { ...LOCAL_WEBHOOK_ENV, LOG_LEVEL: 'debug' }, logStream });
    try {
      const a = api(t);
      const project = await a.createProject('Secretive');
      const hook = await a.post(`/api/projects/${project.id}/webhooks`, {
        type: 'CUSTOM', name: 's', url: receiver.url(`/hook/${URL_TOKEN}?key=${URL_TOKEN}`), activityTypes: ['bb.issue.create'], signingSecret: SECRET_1, headers: { 'X-Api-Key': HEADER_SECRET },
      }, 201);
      receiver.answer({ status: 500, body: 'boom' }, { status: 200, body: '{"code":0}' });
      await a.createIssue(project.id);
      await t.app.get(WebhookSubscription).catchUp();
      await t.app.get(DeliveryDispatcher).runOnce();
      // the receiver got the real thing
      expect(receiver.received[0].path).toBe(`/hook/${URL_TOKEN}?key=${URL_TOKEN}`);
      expect(receiver.received[0].headers['x-api-key']).toBe(HEADER_SECRET);
      expect(() => new Webhook(SECRET_1).verify(receiver.received[0].body, receiver.received[0].headers as Record<string, string>)).not.toThrow();
      // rotate the signing secret
      await t.http.patch(`/api/projects/${project.id}/webhooks/${hook.id}`).set(t.auth).send({ signingSecret: SECRET_2 }).expect(200);

      const responses = JSON.stringify([
        await a.get(`/api/projects/${project.id}/webhooks`),
        await a.get(`/api/projects/${project.id}/webhooks/${hook.id}`),
        await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`),
        ...(await Promise.all((await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`)).items.map((d: { id: string }) => a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${d.id}`)))),
        await a.get('/api/events?limit=1000'),
        await a.get(`/api/projects/${project.id}/audit?limit=200`),
      ]);
      const stored = await everything(t);
      const logged = logs.join('');
      // the logs did see this webhook's story: its failed attempt
      expect(logged).toContain('webhook attempt unsuccessful');
      for (const secret of CLEAR) {
        expect({ secret, inResponses: responses.includes(secret), inDatabase: stored.includes(secret), inLogs: logged.includes(secret) }).toEqual({ secret, inResponses: false, inDatabase: false, inLogs: false });
      }
      expect(stored).toMatch(/enc:v1:[0-9a-f]{8}:/);
    } finally {
      await t.close();
    }
  });

  it('signs with the old secret too for 24 hours after a rotation', async () => {
    const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
    try {
      const a = api(t);
      const project = await a.createProject('Rotation');
      const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'r', url: receiver.url(), activityTypes: ['bb.issue.create'], signingSecret: SECRET_1 }, 201);
      await t.http.patch(`/api/projects/${project.id}/webhooks/${hook.id}`).set(t.auth).send({ signingSecret: SECRET_2 }).expect(200);
      const send = async () => {
        await a.createIssue(project.id);
        await t.app.get(WebhookSubscription).catchUp();
        await t.app.get(DeliveryDispatcher).runOnce();
        return receiver.received.at(-1)!;
      };
      const during = await send();
      expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const secret of [SECRET_1, SECRET_2]) expect(() => new Webhook(secret).verify(during.body, during.headers as Record<string, string>)).not.toThrow();
      clock.advance(86_400_000 + 1000);
      // (a fresh receiver-side check: the signature's timestamp must be near the wall clock)
      const after = await send();
      expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(after.headers['webhook-signature']).toMatch(/^v1,/);
    } finally {
      await t.close();
    }
  });

  it('generates the default key into the data folder, readable by its owner only', async () => {
    const dir = tempDir();
    const t = await startTestApp({ dir });
    await t.close();
    // beside the SQLite file; with PostgreSQL, ./data/ of the working folder
    const file = t.config.database.kind === 'sqlite' ? join(dir, 'secret.key') : join(dir, 'data', 'secret.key');
    expect(t.config.secrets.keyFile).toBe(file);
    expect(readdirSync(dirname(file))).toContain('secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('rotates the key: reseal under the new key, then the old key can go', async () => {
    const dir = tempDir();
    const first = await startTestApp({ dir, env: { ...LOCAL_WEBHOOK_ENV, HERALD_SECRET_KEY: KEY_A } });
    const a1 = api(first);
    const project = await a1.createProject('Keys');
    const hook = await a1.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'k', url: receiver.url(), activityTypes: ['bb.issue.create'], signingSecret: SECRET_1 }, 201);
    // an IM app's credentials are sealed too
    await first.http.put(`/api/projects/${project.id}/im-apps/FEISHU`).set(first.auth).send({ credentials: { appId: 'cli_k', appSecret: 'feishu-secret-under-key-a' } }).expect(200);
    await first.close();

    const second = await startTestApp({ dir, env: { ...LOCAL_WEBHOOK_ENV, HERALD_SECRET_KEY: KEY_B, HERALD_SECRET_KEY_PREVIOUS: KEY_A } });
    const resealed = await second.http.post('/api/admin/secrets/reseal').set(second.auth).expect(200);
    expect(resealed.body).toEqual({ resealed: 2, keyId: expect.stringMatching(/^[0-9a-f]{8}$/) });
    const app = JSON.parse((await second.app.get(EventStore).queryOne<{ config: string }>(`SELECT config FROM rm_im_apps`))!.config);
    expect(Object.values(app.credentials).every((v) => String(v).startsWith(`enc:v1:${resealed.body.keyId}:`))).toBe(true);
    expect(app.credentialsDigest).toMatch(new RegExp(`^h1:${resealed.body.keyId}:`));
    expect((await second.http.post('/api/admin/secrets/reseal').set(second.auth).expect(200)).body.resealed).toBe(0);
    await second.close();

    const third = await startTestApp({ dir, env: { ...LOCAL_WEBHOOK_ENV, HERALD_SECRET_KEY: KEY_B } });
    try {
      const test = await third.http.post(`/api/projects/${project.id}/webhooks/${hook.id}/test`).set(third.auth).expect(200);
      expect(test.body.delivered).toBe(true);
      // duplicates are still found under the new key's digests
      await third.http.post(`/api/projects/${project.id}/webhooks`).set(third.auth).send({ type: 'CUSTOM', name: 'dup', url: receiver.url(), activityTypes: ['bb.issue.create'] }).expect(409);
    } finally {
      await third.close();
    }
  });
});
