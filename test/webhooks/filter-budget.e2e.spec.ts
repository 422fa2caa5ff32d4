import type { AggregateStore } from '../../src/event-store/aggregate-store.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { PROJECT_WEBHOOKS } from '../../src/webhooks/config/project-webhooks.js';
import type { ProjectWebhooksEvent, ProjectWebhooksState } from '../../src/webhooks/config/webhook.decider.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

/*
 * The audit's requests, as sent: a filter an OWNER may set must not let any member's text
 * freeze the service. Before filters were bounded, the first test's comment would have held
 * the event loop for hours (each x doubles JavaScript's backtracking), and the last one's
 * for seconds: each test would time out rather than fail.
 */
describe('a webhook filter cannot freeze the service, whatever the expression and whatever the text', () => {
  const t = useTestApp({ env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'false' } });
  let receiver: Receiver;
  let a: ReturnType<typeof api>;
  let owner: { id: number; token: string };
  let member: { id: number; token: string };
  let projectId: number;
  let issueId: number;
  const as = (user: { token: string }) => ({ Authorization: `Bearer ${user.token}` });

  beforeAll(async () => {
    receiver = await new Receiver().start();
    a = api(t);
    owner = await a.post('/api/users', { name: 'Olga Owner', email: 'olga@example.com' }, 201);
    member = await a.post('/api/users', { name: 'Dan Dev', email: 'dan@example.com' }, 201);
    projectId = (await t.http.post('/api/projects').set(as(owner)).send({ name: 'Filtered' }).expect(201)).body.id;
    await t.http.put(`/api/projects/${projectId}/members/${member.id}`).set(as(owner)).send({ role: 'DEVELOPER' }).expect(200);
    issueId = (await t.http.post(`/api/projects/${projectId}/issues`).set(as(member)).send({ name: 'x', type: 'bb.issue.general' }).expect(201)).body.id;
  });
  afterAll(() => receiver.stop());

  const createHook = async (name: string, filter?: string) =>
    (
      await t.http
        .post(`/api/projects/${projectId}/webhooks`)
        .set(as(owner))
        .send({ type: 'CUSTOM', name, url: receiver.url(`/${name}`), activityTypes: ['bb.issue.comment.create'], ...(filter ? { filter } : {}) })
        .expect(201)
    ).body.id as number;

  /** The decision of the issue's last event for one webhook, from the decisions route. */
  const lastDecision = async (hookId: number) => {
    let page = await a.get(`/api/issues/${issueId}/webhook-decisions?limit=200`);
    while (page.nextCursor) page = await a.get(`/api/issues/${issueId}/webhook-decisions?limit=200&cursor=${page.nextCursor}`);
    return page.items[page.items.length - 1].decisions.find((d: { webhookId: number }) => d.webhookId === hookId);
  };

  it('runs `matches()` in linear time: the audit’s (x+x+)+y over a member’s 28 (here 40) x’s is decided at once, and the service answers', async () => {
    const hook = await createHook('regex');
    await t.http
      .patch(`/api/projects/${projectId}/webhooks/${hook}`)
      .set(as(owner))
      .send({ filter: 'description.matches("(x+x+)+y")' })
      .expect(200);
    await t.http.post(`/api/issues/${issueId}/comments`).set(as(member)).send({ content: 'x'.repeat(40) }).expect(201);
    await t.app.get(WebhookSubscription).catchUp();
    await t.http.get('/health/live').expect(200);
    expect(await lastDecision(hook)).toMatchObject({ decision: 'filtered', filter: 'description.matches("(x+x+)+y")' });
    expect((await lastDecision(hook)).error).toBeUndefined();
    // and a text it matches goes out
    await t.http.post(`/api/issues/${issueId}/comments`).set(as(member)).send({ content: `${'x'.repeat(40)}y` }).expect(201);
    await t.app.get(WebhookSubscription).catchUp();
    await t.app.get(DeliveryDispatcher).runOnce();
    expect(receiver.received.filter((r) => r.path === '/regex').map((r) => r.json.description)).toEqual([`${'x'.repeat(40)}y`]);
  });

  it('refuses, with a 400 naming the field, the part and the budget, an expression that could exceed the budget, and changes nothing', async () => {
    const hook = await createHook('nested', 'description.contains("ship")');
    const refused = await t.http
      .patch(`/api/projects/${projectId}/webhooks/${hook}`)
      .set(as(owner))
      .send({ filter: 'description.split("").exists(a, description.split("").exists(b, false))' })
      .expect(400);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toEqual([
      { field: 'filter', message: expect.stringMatching(/^at position 0: `description\.split\(""\)` could take up to [\d,]+ steps on the largest activity, over the budget of 3,000,000/) },
    ]);
    expect((await t.http.get(`/api/projects/${projectId}/webhooks/${hook}`).set(as(owner)).expect(200)).body.filter).toBe('description.contains("ship")');
    // nor may a new webhook be created with it
    await t.http
      .post(`/api/projects/${projectId}/webhooks`)
      .set(as(owner))
      .send({ type: 'CUSTOM', name: 'nested-2', url: receiver.url('/nested-2'), filter: 'description.split("").exists(a, description.split("").exists(b, false))' })
      .expect(400);
  });

  it('stops a filter saved before the budget existed at the budget: the activity is filtered "the filter exceeded its budget", live and in the decisions route', async () => {
    const hook = await createHook('aged');
    const store = t.app.get(EventStore);
    // what an older release accepted: the same change, appended without today's check
    const hostile = 'description.split("").exists(a, description.split("").exists(b, false))';
    await t.app
      .get<AggregateStore<ProjectWebhooksState, ProjectWebhooksEvent>>(PROJECT_WEBHOOKS)
      .update(projectId, { metadata: { actorId: owner.id, correlationId: 'aged-filter' } }, () => [
        { type: 'webhook.updated', schemaVersion: 2, data: { projectId, webhookId: hook, changes: { filter: hostile } } } as never,
      ]);
    const before = (await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?`, [hook]))[0];
    await t.http.post(`/api/issues/${issueId}/comments`).set(as(member)).send({ content: 'x'.repeat(12_000) }).expect(201);
    await t.app.get(WebhookSubscription).catchUp();
    await t.http.get('/health/live').expect(200);
    expect(await lastDecision(hook)).toMatchObject({ decision: 'filtered', filter: hostile, error: 'the filter exceeded its budget' });
    const after = (await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?`, [hook]))[0];
    expect(Number(after.n)).toBe(Number(before.n));
    // a short comment is cheap enough to judge
    await t.http.post(`/api/issues/${issueId}/comments`).set(as(member)).send({ content: 'xy' }).expect(201);
    await t.app.get(WebhookSubscription).catchUp();
    expect(await lastDecision(hook)).toMatchObject({ decision: 'filtered', filter: hostile });
    expect((await lastDecision(hook)).error).toBeUndefined();
  });

  it('schedules a comment for 100 webhooks whose old filters each run out of budget in slices: the service answers meanwhile', async () => {
    const projectId2 = (await t.http.post('/api/projects').set(as(owner)).send({ name: 'Crowded' }).expect(201)).body.id;
    const issue2 = (await t.http.post(`/api/projects/${projectId2}/issues`).set(as(owner)).send({ name: 'y', type: 'bb.issue.general' }).expect(201)).body.id;
    const hooks: number[] = [];
    for (let i = 0; i < 100; i++) {
      const body = { type: 'CUSTOM', name: `crowd-${i}`, url: receiver.url(`/crowd-${i}`), activityTypes: ['bb.issue.comment.create'] };
      hooks.push((await t.http.post(`/api/projects/${projectId2}/webhooks`).set(as(owner)).send(body).expect(201)).body.id);
    }
    const hostile = 'description.split("").exists(a, description.split("").exists(b, a == b + "z"))';
    await t.app
      .get<AggregateStore<ProjectWebhooksState, ProjectWebhooksEvent>>(PROJECT_WEBHOOKS)
      .update(projectId2, { metadata: { actorId: owner.id, correlationId: 'aged-filters' } }, () =>
        hooks.map((webhookId) => ({ type: 'webhook.updated', schemaVersion: 2, data: { projectId: projectId2, webhookId, changes: { filter: hostile } } }) as never),
      );
    await t.app.get(WebhookSubscription).catchUp();
    await t.http.post(`/api/issues/${issue2}/comments`).set(as(owner)).send({ content: 'x'.repeat(20_000) }).expect(201);
    let scheduled = false;
    const scheduling = t.app
      .get(WebhookSubscription)
      .catchUp()
      .then(() => (scheduled = true));
    // a request that needs several turns of the loop is answered while the 100 evaluations go on
    await t.http.get('/health/live').expect(200);
    expect(scheduled).toBe(false);
    await scheduling;
  });
});
