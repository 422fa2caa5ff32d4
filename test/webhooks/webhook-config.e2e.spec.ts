import { WEBHOOK_TYPES } from '../../src/webhooks/providers/registry.js';
import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

const ALL = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'];
const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXSECRETTOKEN';

describe('webhook configuration', () => {
  const t = useTestApp({ env: { HERALD_BACKGROUND_WORKERS: 'false', WEBHOOK_EXTRA_HOSTS_SLACK: 'chat.internal.example' } });
  let a: ReturnType<typeof api>;
  let projectId: number;
  beforeAll(async () => {
    a = api(t);
    projectId = (await a.createProject('Hooks')).id;
  });

  const create = (body: Record<string, unknown>) => t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'SLACK', name: 'alerts', url: SLACK, activityTypes: ALL, ...body });

  it('creates a webhook, accepting the long type name, and never shows the token or secret', async () => {
    const res = await create({ type: 'bb.plugin.webhook.slack' }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      projectId,
      type: 'SLACK',
      name: 'alerts',
      url: 'https://hooks.slack.com/services/***',
      activityTypes: ALL,
      active: true,
      state: 'ACTIVE',
      consecutiveFailures: 0,
      disabledUntil: null,
      lastError: null,
      hasSigningSecret: false,
      headerNames: [],
      ordered: false,
      filter: null,
      coalesce: { windowSeconds: 0 },
      retiredUrl: null,
      directMessage: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const listed = await a.get(`/api/projects/${projectId}/webhooks`);
    expect(JSON.stringify(listed)).not.toContain('SECRETTOKEN');
    const feed = await a.get('/api/events?limit=1000');
    expect(JSON.stringify(feed)).not.toContain('SECRETTOKEN');
    expect(feed.find((e: { type: string }) => e.type === 'webhook.created').data.url).toBe('https://hooks.slack.com/services/***');
  });

  it.each([
    ['an Office 365 connector', 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456', 'TEAMS_O365_CONNECTOR', /Office 365 connector URLs are retired/],
    ['an older connector', 'https://outlook.office.com/webhook/abc@def/IncomingWebhook/123/456', 'TEAMS_O365_CONNECTOR', /Office 365 connector URLs are retired/],
    ['a Workflows URL on logic.azure.com', 'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t', 'TEAMS_WORKFLOWS_LOGIC_APPS', /stopped on 2025-11-30/],
  ])('accepts %s for Teams, and says the URL kind is retired and what to use instead', async (_, url, kind, message) => {
    const res = await create({ type: 'TEAMS', name: `teams ${kind}`, url }).expect(201);
    const retired = { kind, message: expect.stringMatching(message), useInstead: 'https://*.environment.api.powerplatform.com/…' };
    expect(res.body.retiredUrl).toEqual(retired);
    // and wherever the webhook is shown
    expect((await t.http.get(`/api/projects/${projectId}/webhooks/${res.body.id}`).set(t.auth).expect(200)).body.retiredUrl).toEqual(retired);
    const list = await t.http.get(`/api/projects/${projectId}/webhooks`).set(t.auth).expect(200);
    expect(list.body.find((w: { id: number }) => w.id === res.body.id).retiredUrl).toEqual(retired);
    await t.http.delete(`/api/projects/${projectId}/webhooks/${res.body.id}`).set(t.auth).expect(204);
  });

  it('flags no Workflows URL of today’s kind', async () => {
    const url = 'https://default0a1b2c.d3.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s3cr3t';
    const res = await create({ type: 'TEAMS', name: 'teams today', url }).expect(201);
    expect(res.body.retiredUrl).toBeNull();
    await t.http.delete(`/api/projects/${projectId}/webhooks/${res.body.id}`).set(t.auth).expect(204);
  });

  it('refuses the same URL twice in a project with 409', async () => {
    const res = await create({ name: 'again' }).expect(409);
    expect(res.body.detail).toMatch(/already posts to this URL/);
  });

  it('refuses bad fields with 400, naming each, and records nothing', async () => {
    const before = (await a.get('/api/events?limit=1000')).length;
    const type = await create({ type: 'PIGEON', url: 'https://hooks.slack.com/services/other' }).expect(400);
    expect(type.body.errors).toEqual([{ field: 'type', message: expect.stringContaining('SLACK') }]);
    const host = await create({ url: 'https://evil.example.com/services/x' }).expect(400);
    expect(host.body.errors[0]).toEqual({ field: 'url', message: expect.stringContaining('allowed: hooks.slack.com, hooks.slack-gov.com, chat.internal.example') });
    const http = await create({ url: 'http://hooks.slack.com/services/y' }).expect(400);
    expect(http.body.errors[0]).toEqual({ field: 'url', message: 'must use https' });
    const name = await create({ name: '', url: 'https://hooks.slack.com/services/z' }).expect(400);
    expect(name.body.errors[0].field).toBe('name');
    const activities = await create({ activityTypes: [], url: 'https://hooks.slack.com/services/z' }).expect(400);
    expect(activities.body.errors[0].field).toBe('activityTypes');
    const unknownActivity = await create({ activityTypes: ['bb.issue.created'], url: 'https://hooks.slack.com/services/z' }).expect(400);
    expect(unknownActivity.body.errors[0].field).toBe('activityTypes');
    const discord = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'DISCORD', name: 'd', url: 'https://discord.com/not-webhooks/1', activityTypes: ALL }).expect(400);
    expect(discord.body.errors[0].field).toBe('url');
    const secret = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'c', url: 'https://example.com/h', activityTypes: ALL, signingSecret: 'plain' }).expect(400);
    expect(secret.body.errors[0].field).toBe('signingSecret');
    const headers = await t.http.post(`/api/projects/${projectId}/webhooks`).set(t.auth).send({ type: 'CUSTOM', name: 'c', url: 'https://example.com/h', activityTypes: ALL, headers: { 'webhook-id': 'x' } }).expect(400);
    expect(headers.body.errors[0].field).toBe('headers.webhook-id');
    expect((await a.get('/api/events?limit=1000')).length).toBe(before);
  });

  it('accepts an operator-added host for one provider', async () => {
    await create({ url: 'https://chat.internal.example/hooks/abc' }).expect(201);
  });

  it('lists the webhook types from the provider registry, with the operator’s hosts, for the console', async () => {
    const types = await a.get('/api/webhook-types');
    expect(types.map((t: { type: string }) => t.type)).toEqual([...WEBHOOK_TYPES]);
    expect(types.find((t: { type: string }) => t.type === 'SLACK')).toEqual({
      type: 'SLACK',
      aliases: ['bb.plugin.webhook.slack'],
      displayName: 'Slack',
      exampleUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
      hosts: ['hooks.slack.com', 'hooks.slack-gov.com', 'chat.internal.example'],
      signingSecret: null,
      customHeaders: false,
      defaultCoalesceSeconds: 0,
    });
    expect(types.find((t: { type: string }) => t.type === 'CUSTOM')).toMatchObject({ hosts: [], customHeaders: true, signingSecret: expect.stringContaining('whsec_'), defaultCoalesceSeconds: null });
    // the robots that take 20 messages a minute coalesce by default
    expect(types.filter((t: { defaultCoalesceSeconds: number | null }) => (t.defaultCoalesceSeconds ?? 0) > 0).map((t: { type: string }) => t.type)).toEqual(['DINGTALK', 'WECOM']);
    // the OpenAPI enum is the same list
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.components.schemas.WebhookSchema.properties.type.enum).toEqual([...WEBHOOK_TYPES]);
  });

  it('updates, re-reads and deletes a webhook; unknown ones are 404', async () => {
    const hook = (await create({ url: 'https://hooks.slack.com/services/T1/B1/other' }).expect(201)).body;
    const updated = await t.http.patch(`/api/projects/${projectId}/webhooks/${hook.id}`).set(t.auth).send({ name: 'renamed', activityTypes: ['bb.issue.create'], active: false }).expect(200);
    expect(updated.body).toMatchObject({ name: 'renamed', activityTypes: ['bb.issue.create'], active: false });
    expect((await a.get(`/api/projects/${projectId}/webhooks/${hook.id}`)).name).toBe('renamed');
    await t.http.delete(`/api/projects/${projectId}/webhooks/${hook.id}`).set(t.auth).expect(204);
    await t.http.get(`/api/projects/${projectId}/webhooks/${hook.id}`).set(t.auth).expect(404);
    await t.http.get(`/api/projects/999/webhooks`).set(t.auth).expect(404);
    const other = await a.createProject('Other');
    await t.http.get(`/api/projects/${other.id}/webhooks/${hook.id - 1}`).set(t.auth).expect(404);
  });
});
