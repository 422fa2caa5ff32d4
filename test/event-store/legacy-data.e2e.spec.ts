import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { EventStore } from '../../src/event-store/event-store.js';
import { READ_MODELS_VERSION } from '../../src/event-store/projection-rebuilder.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { rebuildThroughApi } from '../support/rebuild.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, testEngine, type TestApp } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'aged', causationId: null } };

/** Every row of every table, as text: what a search of the database files would find. */
async function wholeDatabase(t: TestApp): Promise<string> {
  const store = t.app.get(EventStore);
  const tables =
    testEngine() === 'postgres'
      ? await store.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`)
      : await store.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  const dump: unknown[] = [];
  for (const { name } of tables) dump.push(name, await store.query(`SELECT * FROM ${name}`));
  return JSON.stringify(dump);
}

/** What a database written by Herald before issue 17 (strict input, URL masks) holds, and what this version makes of it. */
describe('a database written before issue 17', () => {
  it('reads its null changes and old URL masks through the upcasters and the migration, and keeps no token anywhere', async () => {
    const receiver = await new Receiver().start();
    const dir = tempDir();
    // both starts write to this one stream (a process may keep the first start's logger)
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const env = { ...LOCAL_WEBHOOK_ENV, LOG_LEVEL: 'info' };
    const first = await startTestApp({ dir, env, logStream });
    const a1 = api(first);
    const project = (await a1.createProject('Legacy')).id;
    const issue = (await a1.createIssue(project, { name: 'Keep me', description: 'some text' })).id;
    const hook = (await a1.post(`/api/projects/${project}/webhooks`, { type: 'CUSTOM', name: 'ops', url: receiver.url('/SEGTOKEN0123456789abcdef'), activityTypes: ['bb.issue.create', 'bb.issue.field.update'] }, 201)).id;
    await a1.createIssue(project, { name: 'Delivered once' });
    await first.app.get(WebhookSubscription).catchUp();
    expect(await first.app.get(DeliveryDispatcher).runOnce()).toBe(1);

    // age it into what the code before issue 17 wrote: the old mask (scheme, host, first path segment)
    // in the log, the read model and the recorded request; null changes accepted from the API
    const oldMask = `http://127.0.0.1:${receiver.port}/SEGTOKEN0123456789abcdef`;
    const store = first.app.get(EventStore);
    const created = (await store.readStream(`project-${project}`)).find((e) => e.type === 'webhook.created')!;
    const config = JSON.parse((await store.queryOne<{ config: string }>(`SELECT config FROM rm_webhooks WHERE id = ?`, [hook]))!.config);
    const doc = JSON.parse((await store.queryOne<{ doc: string }>(`SELECT doc FROM rm_issues WHERE id = ?`, [issue]))!.doc);
    const attempts = await store.query<{ delivery_id: string; number: number; request: string }>(`SELECT delivery_id, number, request FROM webhook_delivery_attempts`);
    await store.transact(async (tx) => {
      await tx.append(`project-${project}`, await tx.streamVersion(`project-${project}`), [{ type: 'webhook.updated', schemaVersion: 1, data: { projectId: project, webhookId: hook, changes: { name: null, active: null } } }], meta);
      await tx.append(
        `issue-${issue}`,
        await tx.streamVersion(`issue-${issue}`),
        [
          { type: 'issue.field-updated', schemaVersion: 1, data: { issueId: issue, projectId: project, field: 'name', from: 'Keep me', to: null } },
          { type: 'issue.field-updated', schemaVersion: 1, data: { issueId: issue, projectId: project, field: 'description', from: 'some text', to: null } },
        ],
        meta,
      );
      await tx.exec([
        { sql: `UPDATE events SET schema_version = 1, data = ? WHERE position = ?`, params: [JSON.stringify({ ...(created.data as object), urlMasked: oldMask }), created.position] },
        { sql: `UPDATE rm_webhooks SET config = ? WHERE id = ?`, params: [JSON.stringify({ ...config, urlMasked: oldMask, name: null, active: null }), hook] },
        { sql: `UPDATE rm_issues SET doc = ? WHERE id = ?`, params: [JSON.stringify({ ...doc, name: null, description: null }), issue] },
        ...attempts.map((row) => ({
          sql: `UPDATE webhook_delivery_attempts SET request = ? WHERE delivery_id = ? AND number = ?`,
          params: [JSON.stringify({ ...JSON.parse(row.request), url: oldMask }), row.delivery_id, row.number],
        })),
        { sql: `DELETE FROM migrations WHERE name = ?`, params: ['ReadModelVersions1764300000000'] },
        { sql: `DROP TABLE read_model_versions`, params: [] },
      ]);
    });
    await first.close();
    expect(attempts.length).toBe(1);

    lines.length = 0;
    const second = await startTestApp({ dir, env, logStream });
    try {
      const a2 = api(second);
      expect(await a2.get(`/api/issues/${issue}`)).toMatchObject({ name: 'Keep me', description: '' });
      expect((await a2.get(`/api/projects/${project}/issues`)).items.map((i: { name: unknown }) => typeof i.name)).toEqual(['string', 'string']);
      expect(await a2.get(`/api/projects/${project}/webhooks`)).toEqual([expect.objectContaining({ id: hook, name: 'ops', active: true, url: `http://127.0.0.1:${receiver.port}/***` })]);
      const fieldUpdates = (await a2.get(`/api/issues/${issue}/events`)).filter((e: { type: string }) => e.type === 'issue.field-updated');
      expect(fieldUpdates.map((e: { schemaVersion: number; data: { to: unknown } }) => [e.schemaVersion, e.data.to])).toEqual([
        [2, 'Keep me'],
        [2, ''],
      ]);
      expect(await second.app.get(EventStore).queryOne(`SELECT version FROM read_model_versions`)).toEqual({ version: READ_MODELS_VERSION });

      // the webhook scheduler reads them too: the description change is news, the name "change" is not
      receiver.answer({ status: 500, body: 'down' });
      await second.app.get(WebhookSubscription).catchUp();
      expect(await second.app.get(DeliveryDispatcher).runOnce()).toBe(1);
      const deliveries = (await a2.get(`/api/projects/${project}/webhooks/${hook}/deliveries`)).items;
      expect(deliveries.map((d: { activityType: string; status: string }) => [d.activityType, d.status]).sort()).toEqual([
        ['bb.issue.create', 'DELIVERED'],
        ['bb.issue.field.update', 'RETRYING'],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const logged = lines.join('');
      expect(logged).toContain('webhook attempt unsuccessful');
      expect(logged).not.toContain('could not map an event');

      // no copy of the token: not in the log, the read models, the recorded requests, the API's answers or the logs
      const answers = JSON.stringify([
        await a2.get('/api/events?limit=1000'),
        await a2.get(`/api/projects/${project}/webhooks/${hook}`),
        ...(await Promise.all(deliveries.map((d: { id: string }) => a2.get(`/api/projects/${project}/webhooks/${hook}/deliveries/${d.id}`)))),
      ]);
      expect(answers).toContain(`http://127.0.0.1:${receiver.port}/***`);
      for (const [where, text] of Object.entries({ database: await wholeDatabase(second), answers, logs: logged })) {
        expect({ where, leaks: text.includes('SEGTOKEN') }).toEqual({ where, leaks: false });
      }

      // and a rebuild gives the same read models as the start did
      const before = [await a2.get(`/api/issues/${issue}`), await a2.get(`/api/projects/${project}/webhooks`)];
      expect(await rebuildThroughApi(second)).toMatchObject({ state: 'done' });
      expect([await a2.get(`/api/issues/${issue}`), await a2.get(`/api/projects/${project}/webhooks`)]).toEqual(before);
    } finally {
      await second.close();
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
