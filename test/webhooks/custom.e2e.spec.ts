import { Webhook } from 'standardwebhooks';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api, twoStages } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

describe('webhooks to a Custom endpoint', () => {
  // the real time: standardwebhooks checks the signature's timestamp against the wall clock
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const t = useTestApp({ clock, env: LOCAL_WEBHOOK_ENV, random: () => 0.5 });
  let a: ReturnType<typeof api>;
  let receiver: Receiver;
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    a = api(t);
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('sends every activity type of a whole workflow with the seed\'s exact body, signed', async () => {
    const project = await a.createProject('Payments');
    const hook = await a.post(
      `/api/projects/${project.id}/webhooks`,
      {
        type: 'CUSTOM',
        name: 'ops',
        url: receiver.url('/hook?token=s3cret'),
        activityTypes: ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'],
        signingSecret: SECRET,
        headers: { 'X-Team': 'platform' },
      },
      201,
    );
    expect(hook).toMatchObject({ type: 'CUSTOM', url: `http://127.0.0.1:${receiver.port}/***`, hasSigningSecret: true, headerNames: ['X-Team'], state: 'ACTIVE' });
    expect(JSON.stringify(hook)).not.toContain('s3cret');

    const issue = await a.createIssue(project.id, { name: 'Add index: users', description: 'CREATE INDEX', pipeline: twoStages });
    const testTask = issue.pipeline.stages[0].tasks[0].id;
    await a.task(issue.id, testTask, { status: 'PENDING' });
    await a.task(issue.id, testTask, { status: 'RUNNING' });
    await a.task(issue.id, testTask, { status: 'FAILED', comment: 'lock timeout' });
    await a.comment(issue.id, 'retrying');
    await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ assigneeId: 2 }).expect(200);
    await a.status(issue.id, { status: 'CANCELED', comment: 'later' });

    expect(await pump()).toBe(9);
    const bodies = receiver.received.map((r) => r.json);
    expect(bodies.map((b) => [b.activity_type, b.level, b.title])).toEqual([
      ['bb.issue.create', 'INFO', 'Issue created - Add index: users'],
      ['bb.pipeline.stage.status.update', 'INFO', 'Stage begins - test'],
      ['bb.pipeline.task.status.update', 'INFO', 'Task approved - db-test'],
      ['bb.pipeline.task.status.update', 'INFO', 'Task started - db-test'],
      ['bb.pipeline.task.status.update', 'ERROR', 'Task failed - db-test'],
      ['bb.pipeline.stage.status.update', 'ERROR', 'Stage ends - test'],
      ['bb.issue.comment.create', 'INFO', 'Comment created - Add index: users'],
      ['bb.issue.field.update', 'INFO', 'Assigned issue to Admin - Add index: users'],
      ['bb.issue.status.update', 'WARN', 'Issue canceled - Add index: users'],
    ]);
    // the body has exactly the seed's keys and types
    const created = bodies[0];
    expect(Object.keys(created)).toEqual(['level', 'activity_type', 'title', 'description', 'link', 'creator_id', 'creator_name', 'created_ts', 'issue', 'project']);
    expect(created).toEqual({
      level: 'INFO',
      activity_type: 'bb.issue.create',
      title: 'Issue created - Add index: users',
      description: '',
      link: `https://herald.example.com/issue/add-index-users-${issue.id}`,
      creator_id: 2,
      creator_name: 'Admin',
      created_ts: clock.now().getTime() / 1000,
      issue: { id: issue.id, name: 'Add index: users', status: 'OPEN', type: 'bb.issue.database.schema.update', description: 'CREATE INDEX' },
      project: { id: project.id, name: 'Payments' },
    });
    expect(bodies[1]).toMatchObject({ creator_id: 1, creator_name: 'Bytebase', link: `https://herald.example.com/issue/add-index-users-${issue.id}?stage=${issue.pipeline.stages[0].id}` });
    expect(bodies[4].description).toBe('lock timeout');
    expect(bodies[6]).toMatchObject({ description: 'retrying', link: expect.stringMatching(/#activity\d+$/) });
    expect(bodies[8]).toMatchObject({ description: 'later', issue: { status: 'CANCELED' } });
    // every request verifies with the standardwebhooks library, carries the custom header, and has a unique id
    for (const r of receiver.received) {
      expect(() => new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
      expect(r.headers['x-team']).toBe('platform');
      expect(r.headers['user-agent']).toMatch(/^Herald-Webhook\//);
      expect(r.path).toBe('/hook?token=s3cret');
    }
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(receiver.received.length);

    const deliveries = await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`);
    expect(deliveries.items).toHaveLength(receiver.received.length);
    expect(deliveries.items.every((d: { status: string }) => d.status === 'DELIVERED')).toBe(true);
    const detail = await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${deliveries.items[0].id}`);
    expect(detail.attempts).toEqual([
      expect.objectContaining({ number: 1, verdict: 'delivered', request: expect.objectContaining({ url: `http://127.0.0.1:${receiver.port}/***` }), response: expect.objectContaining({ status: 200 }) }),
    ]);
    expect(detail.attempts[0].request.headers['X-Team']).toBe('***');
    expect(JSON.stringify(detail)).not.toContain('s3cret');
  });
});
