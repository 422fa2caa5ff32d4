import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const dingtalkOk = { status: 200, body: '{"errcode":0,"errmsg":"ok"}', headers: { 'content-type': 'application/json' } };

describe('GET /api/issues/{issueId}/webhook-decisions explains every event × webhook from the log', () => {
  let t: TestApp;
  let custom: Receiver;
  let robot: Receiver;
  beforeEach(async () => {
    custom = await new Receiver().start();
    robot = await new Receiver().start();
    robot.answer(dingtalkOk);
    t = await startTestApp({ clock: new ManualClock('2026-03-01T10:00:00.000Z'), env: LOCAL_WEBHOOK_ENV });
  });
  afterEach(async () => {
    await t.close();
    await custom.stop();
    await robot.stop();
  });

  it('explains an unsubscribed type, a filtered event, a switched-off webhook, a later one, and a coalesced one', async () => {
    const a = api(t);
    const project = await a.createProject('Explained');
    const hooks = (path: string, body: object) => a.post(`/api/projects/${project.id}/webhooks`, { name: path, ...body }, 201).then((h) => h.id as number);
    // comments only when they say "ship"
    const relay = await hooks('relay', {
      type: 'CUSTOM',
      url: custom.url('/relay'),
      activityTypes: ['bb.issue.create', 'bb.issue.comment.create'],
      filter: 'activity_type != "bb.issue.comment.create" || description.contains("ship")',
    });
    const off = await hooks('off', { type: 'CUSTOM', url: custom.url('/off'), activityTypes: ['bb.issue.create'], active: false });
    // DingTalk coalesces within a minute by default
    const room = await hooks('room', { type: 'DINGTALK', url: `http://127.0.0.1:${robot.port}/robot/send?access_token=t`, activityTypes: ['bb.pipeline.task.status.update'] });
    const issue = await a.createIssue(project.id, { name: 'Explain me', pipeline: { stages: [{ name: 'prod', tasks: [{ name: 'db1' }, { name: 'db2' }] }] } });
    const [db1, db2] = issue.pipeline.stages[0].tasks.map((task: { id: number }) => task.id);
    const later = await hooks('later', { type: 'CUSTOM', url: custom.url('/later'), activityTypes: ['bb.issue.create', 'bb.issue.comment.create'] });
    await a.comment(issue.id, 'hello');
    await a.comment(issue.id, 'ship it');
    await a.task(issue.id, db1, { status: 'PENDING' });
    await a.task(issue.id, db2, { status: 'PENDING' });
    await t.app.get(WebhookSubscription).catchUp();
    await t.app.get(DeliveryDispatcher).runOnce();

    const { items, webhooks, reasons } = await a.get(`/api/issues/${issue.id}/webhook-decisions`);
    expect(webhooks.map((h: { id: number }) => h.id)).toEqual([relay, off, room, later]);
    expect(reasons['not-subscribed']).toMatch(/did not subscribe/);
    const of = (title: string) => {
      const item = items.find((i: { title: string | null }) => i.title === title);
      expect(item).toBeDefined();
      return Object.fromEntries(item.decisions.map((d: { webhookId: number }) => [d.webhookId, d]));
    };

    const created = of('Issue created - Explain me');
    expect(created[relay]).toMatchObject({ decision: 'scheduled', status: 'DELIVERED', deliveryId: expect.stringMatching(/^msg_/) });
    expect(created[off]).toMatchObject({ decision: 'webhook-disabled' });
    expect(created[room]).toMatchObject({ decision: 'not-subscribed' });
    expect(created[later]).toMatchObject({ decision: 'webhook-created-later' });

    const hello = items.filter((i: { activityType: string }) => i.activityType === 'bb.issue.comment.create');
    expect(hello.map((i: { decisions: { webhookId: number; decision: string }[] }) => i.decisions.find((d) => d.webhookId === relay)!.decision)).toEqual(['filtered', 'scheduled']);
    expect(hello[0].decisions.find((d: { webhookId: number }) => d.webhookId === relay).filter).toContain('description.contains("ship")');
    // the later webhook exists by now: it hears both comments
    expect(hello.map((i: { decisions: { webhookId: number; decision: string }[] }) => i.decisions.find((d) => d.webhookId === later)!.decision)).toEqual(['scheduled', 'scheduled']);

    // the two task changes went to the room as one message: one carries, the other is coalesced into it
    const tasks = items.filter((i: { activityType: string }) => i.activityType === 'bb.pipeline.task.status.update').map((i: { decisions: { webhookId: number }[] }) => i.decisions.find((d) => d.webhookId === room));
    expect(tasks).toEqual([
      expect.objectContaining({ decision: 'scheduled', status: 'DELIVERED' }),
      expect.objectContaining({ decision: 'coalesced', status: 'COALESCED', into: tasks[0].deliveryId }),
    ]);
    expect(robot.received).toHaveLength(1);
    expect(robot.received[0].json.markdown.title).toBe('2 updates on "Explain me"');
    // the delivery log shows what the message carries
    const carrier = await a.get(`/api/projects/${project.id}/webhooks/${room}/deliveries/${tasks[0].deliveryId}`);
    expect(carrier).toMatchObject({ title: '2 updates on "Explain me"', issueId: issue.id, carries: [{ id: tasks[1].deliveryId, eventPosition: expect.any(Number) }] });

    // events no webhook hears of are listed without decisions
    expect(items.filter((i: { activityType: string | null }) => i.activityType === null).every((i: { decisions: unknown[] }) => i.decisions.length === 0)).toBe(true);
  });

  it('explains a deleted webhook, and answers 404 for an issue that does not exist', async () => {
    const a = api(t);
    const project = await a.createProject('Gone');
    const hook = (await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'gone', url: custom.url(), activityTypes: ['bb.issue.create', 'bb.issue.comment.create'] }, 201)).id;
    const issue = await a.createIssue(project.id, { name: 'After' });
    await t.http.delete(`/api/projects/${project.id}/webhooks/${hook}`).set(t.auth).expect(204);
    await a.comment(issue.id, 'nobody hears this');
    const { items, webhooks } = await a.get(`/api/issues/${issue.id}/webhook-decisions`);
    expect(webhooks).toEqual([{ id: hook, name: 'gone', type: 'CUSTOM', deleted: true }]);
    expect(items.filter((i: { activityType: string | null }) => i.activityType).map((i: { decisions: { decision: string }[] }) => i.decisions[0].decision)).toEqual(['scheduled', 'webhook-deleted']);
    await t.http.get('/api/issues/999999/webhook-decisions').set(t.auth).expect(404);
  });

  it('pages by events: the pages together are the whole list, each decided as on one page, and a foreign cursor is a 400', async () => {
    const a = api(t);
    const project = await a.createProject('Paged');
    const hook = (await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'paged', url: custom.url(), activityTypes: ['bb.issue.comment.create'] }, 201)).id;
    const issue = await a.createIssue(project.id, { name: 'Long' });
    for (let i = 0; i < 4; i++) await a.comment(issue.id, `comment ${i}`);
    await t.app.get(WebhookSubscription).catchUp();
    const whole = await a.get(`/api/issues/${issue.id}/webhook-decisions?limit=200`);
    expect(whole.nextCursor).toBeNull();
    expect(whole.items.length).toBeGreaterThanOrEqual(5);

    const pages: { items: unknown[]; nextCursor: string | null }[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page = await a.get(`/api/issues/${issue.id}/webhook-decisions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.webhooks).toEqual([{ id: hook, name: 'paged', type: 'CUSTOM', deleted: false }]);
      pages.push(page);
      cursor = page.nextCursor;
    }
    // the comments deep in the stream keep their deliveries and titles on later pages
    expect(pages.flatMap((p) => p.items)).toEqual(whole.items);
    expect(whole.items.filter((i: { title: string | null }) => i.title?.startsWith('Comment created')).map((i: { decisions: { decision: string; deliveryId?: string }[] }) => i.decisions[0])).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ decision: 'scheduled', deliveryId: expect.stringMatching(/^msg_/) })),
    );

    // a cursor of another list
    const res = await t.http.get(`/api/issues/${issue.id}/webhook-decisions?cursor=${Buffer.from('projects:1').toString('base64url')}`).set(t.auth).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);
  });
});
