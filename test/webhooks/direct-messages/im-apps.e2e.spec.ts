import { LOCAL_WEBHOOK_ENV } from '../../support/receiver.js';
import { rebuildThroughApi } from '../../support/rebuild.js';
import { useTestApp } from '../../support/test-app.js';

/*
 * A project's IM apps as configuration: each vendor's credentials checked (a 400 naming the
 * field and the rule, changing nothing), sealed at rest and never shown, OWNERs and admins
 * only, audited in the project's stream; the API base checked by the webhooks' outbound rules.
 */

const FEISHU_SECRET = 'feishu-app-secret-0123456789';

describe('IM apps', () => {
  const t = useTestApp({ env: { ...LOCAL_WEBHOOK_ENV, WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_EXTRA_HOSTS: '' } });
  let project: number;
  let developer: string;
  const apps = () => t.http.get(`/api/projects/${project}/im-apps`).set(t.auth).expect(200).then((r) => r.body);

  beforeAll(async () => {
    project = (await t.http.post('/api/projects').set(t.auth).send({ name: 'Chat' }).expect(201)).body.id;
    const user = (await t.http.post('/api/users').set(t.auth).send({ name: 'Dev', email: 'dev@example.com' }).expect(201)).body;
    developer = user.token;
    await t.http.put(`/api/projects/${project}/members/${user.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
  });

  it('lists what each vendor needs', async () => {
    const types = (await t.http.get('/api/im-app-types').set(t.auth).expect(200)).body;
    expect(types.map((x: { type: string }) => x.type)).toEqual(['SLACK', 'FEISHU', 'LARK', 'WECOM', 'DINGTALK', 'TEAMS']);
    expect(types.find((x: { type: string }) => x.type === 'WECOM').credentials.map((c: { name: string }) => c.name)).toEqual(['corpId', 'agentId', 'secret']);
    expect(types.find((x: { type: string }) => x.type === 'LARK').defaultApiBase).toBe('https://open.larksuite.com');
  });

  it('refuses credentials of the wrong shape, missing or foreign, and API bases the outbound rules refuse, changing nothing', async () => {
    const put = (type: string, body: object) => t.http.put(`/api/projects/${project}/im-apps/${type}`).set(t.auth).send(body).expect(400).then((r) => r.body);
    expect((await put('SLACK', { credentials: { botToken: 'xoxp-user-token-123456' } })).errors).toEqual([{ field: 'credentials.botToken', message: expect.stringContaining('xoxb-') }]);
    expect((await put('WECOM', { credentials: { corpId: 'ww1', secret: 's3cret', agentId: 'abc', extra: 'x' } })).errors).toEqual([
      { field: 'credentials.agentId', message: expect.stringContaining('digits') },
      { field: 'credentials.extra', message: expect.stringContaining('corpId, agentId, secret') },
    ]);
    expect((await put('FEISHU', { credentials: { appId: 'cli_1' } })).errors).toEqual([{ field: 'credentials.appSecret', message: expect.stringContaining('required') }]);
    expect((await put('FEISHU', { credentials: { appId: 'cli_1', appSecret: FEISHU_SECRET }, apiBase: 'https://open.example.com' })).errors).toEqual([
      { field: 'apiBase', message: expect.stringContaining('host open.example.com is not allowed for FEISHU') },
    ]);
    expect((await put('LARK', { credentials: { appId: 'cli_1', appSecret: FEISHU_SECRET }, apiBase: 'http://open.larksuite.com' })).errors).toEqual([{ field: 'apiBase', message: 'must use https' }]);
    expect((await put('DISCORD', { credentials: {} })).errors).toEqual([{ field: 'type', message: expect.stringContaining('SLACK, FEISHU') }]);
    const missing = await t.http.put(`/api/projects/${project}/im-apps/SLACK`).set(t.auth).send({}).expect(400);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(await apps()).toEqual([]);
  });

  it('keeps the credentials sealed: set, listed without values, audited without values, removed', async () => {
    const set = (await t.http.put(`/api/projects/${project}/im-apps/feishu`).set(t.auth).send({ credentials: { appId: 'cli_a1b2', appSecret: FEISHU_SECRET } }).expect(200)).body;
    expect(set).toEqual({ projectId: project, type: 'FEISHU', apiBase: 'https://open.feishu.cn', credentials: ['appId', 'appSecret'], updatedAt: expect.any(String) });
    expect(await apps()).toEqual([set]);
    const audit = JSON.stringify((await t.http.get(`/api/projects/${project}/audit?limit=200`).set(t.auth).expect(200)).body);
    expect(audit).toContain('im-app.set');
    expect(audit).not.toContain(FEISHU_SECRET);
    expect(audit).not.toContain('cli_a1b2');
    const stored = JSON.stringify(await t.app.get((await import('../../../src/event-store/event-store.js')).EventStore).query(`SELECT data FROM events WHERE type = 'im-app.set'`));
    expect(stored).not.toContain(FEISHU_SECRET);
    expect(stored).toMatch(/enc:v1:/);
    // as it is: nothing to record
    await t.http.put(`/api/projects/${project}/im-apps/FEISHU`).set(t.auth).send({ credentials: { appId: 'cli_a1b2', appSecret: FEISHU_SECRET } }).expect(200);
    const sets = (await t.http.get(`/api/projects/${project}/audit?limit=200`).set(t.auth).expect(200)).body.items.filter((e: { type: string }) => e.type === 'im-app.set');
    expect(sets).toHaveLength(1);
    // a read model like the others: rebuilt from the log as it was (the table emptied first)
    const { EventStore } = await import('../../../src/event-store/event-store.js');
    await t.app.get(EventStore).transact((tx) => tx.exec([{ sql: `DELETE FROM rm_im_apps`, params: [] }]));
    expect(await apps()).toEqual([]);
    await rebuildThroughApi(t);
    expect(await apps()).toEqual([set]);
    await t.http.delete(`/api/projects/${project}/im-apps/FEISHU`).set(t.auth).expect(204);
    await t.http.delete(`/api/projects/${project}/im-apps/FEISHU`).set(t.auth).expect(404);
    expect(await apps()).toEqual([]);
  });

  it('masks an API base like a webhook URL wherever it is shown: a proxy’s key in its path stays hidden', async () => {
    const KEY = 'proxy-key-7f3a9c2e';
    const set = (await t.http.put(`/api/projects/${project}/im-apps/LARK`).set(t.auth).send({ credentials: { appId: 'cli_a1b2', appSecret: FEISHU_SECRET }, apiBase: `https://open.larksuite.com/${KEY}` }).expect(200)).body;
    expect(set.apiBase).toBe('https://open.larksuite.com/***');
    expect((await apps()).find((a: { type: string }) => a.type === 'LARK').apiBase).toBe('https://open.larksuite.com/***');
    const audit = JSON.stringify((await t.http.get(`/api/projects/${project}/audit?limit=200`).set(t.auth).expect(200)).body);
    const feed = JSON.stringify((await t.http.get(`/api/events?limit=1000`).set(t.auth).expect(200)).body);
    expect(audit).toContain('https://open.larksuite.com/***');
    for (const shown of [audit, feed]) expect(shown).not.toContain(KEY);
    await t.http.delete(`/api/projects/${project}/im-apps/LARK`).set(t.auth).expect(204);
  });

  it('is for OWNERs and admins only', async () => {
    await t.http.get(`/api/projects/${project}/im-apps`).set({ Authorization: `Bearer ${developer}` }).expect(403);
    await t.http.put(`/api/projects/${project}/im-apps/SLACK`).set({ Authorization: `Bearer ${developer}` }).send({ credentials: { botToken: 'xoxb-1111-2222-abcdefghijkl' } }).expect(403);
  });

  it('lets only webhooks of a type with an IM app ask for direct messages', async () => {
    const refused = (await t.http.post(`/api/projects/${project}/webhooks`).set(t.auth).send({ type: 'DISCORD', name: 'd', url: 'https://discord.com/api/webhooks/1/x', activityTypes: ['bb.issue.approved'], directMessage: true }).expect(400)).body;
    expect(refused.errors).toEqual([{ field: 'directMessage', message: expect.stringContaining('DISCORD has no IM app') }]);
    const hook = (await t.http.post(`/api/projects/${project}/webhooks`).set(t.auth).send({ type: 'SLACK', name: 's', url: 'https://hooks.slack.com/services/T/B/x', activityTypes: ['bb.issue.approved'], directMessage: true }).expect(201)).body;
    expect(hook.directMessage).toBe(true);
    const off = (await t.http.patch(`/api/projects/${project}/webhooks/${hook.id}`).set(t.auth).send({ directMessage: false }).expect(200)).body;
    expect(off.directMessage).toBe(false);
  });
});
