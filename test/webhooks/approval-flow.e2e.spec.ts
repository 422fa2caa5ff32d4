import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { PINGS } from '../support/pings.js';
import { LOCAL_WEBHOOK_ENV, Receiver, type Reply } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

/*
 * An issue under a two-step approval, end to end on the engine under test, with every provider's
 * receiver emulated on 127.0.0.1: create → requested (step 1) → approve → requested (step 2) →
 * send back → request → approve → approve → approved → tasks run → one fails, then another
 * (bb.pipeline.failed once) → retried and done (bb.pipeline.completed once). Each receiver gets
 * each activity in its own format, pinging the people Herald mentions by the handles they set.
 */

const json = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** Each provider, emulated: where it is reached and how it answers. */
const SERVICES: { type: string; path: string; reply: Reply }[] = [
  { type: 'SLACK', path: '/services/T0/B0/token', reply: { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } } },
  { type: 'DISCORD', path: '/api/webhooks/1/token', reply: { status: 204 } },
  { type: 'TEAMS', path: '/workflows/token', reply: { status: 202 } },
  { type: 'DINGTALK', path: '/robot/send?access_token=token', reply: json({ errcode: 0, errmsg: 'ok' }) },
  { type: 'FEISHU', path: '/open-apis/bot/v2/hook/token', reply: json({ code: 0, msg: 'success' }) },
  { type: 'LARK', path: '/open-apis/bot/v2/hook/token2', reply: json({ code: 0, msg: 'success' }) },
  { type: 'WECOM', path: '/cgi-bin/webhook/send?key=token', reply: json({ errcode: 0, errmsg: 'ok' }) },
  { type: 'GOOGLE_CHAT', path: '/v1/spaces/AAAA/messages?key=k&token=t', reply: json({ name: 'spaces/AAAA/messages/1' }) },
  { type: 'CUSTOM', path: '/herald', reply: json({ code: 0 }) },
];

/** Subscribed by Bytebase's current names: the webhooks answer with Herald's. */
const BYTEBASE_NAMES = ['ISSUE_APPROVAL_REQUESTED', 'ISSUE_APPROVED', 'ISSUE_SENT_BACK', 'PIPELINE_FAILED', 'PIPELINE_COMPLETED'];
const HERALD_NAMES = ['bb.issue.approval.requested', 'bb.issue.approved', 'bb.issue.sent-back', 'bb.pipeline.failed', 'bb.pipeline.completed'];
const TITLES = ['Approval required', 'Issue approved', 'Issue sent back', 'Rollout failed', 'Rollout completed'];

/** The people of the walk and the handles they set (Carol and the admin have none). */
const PEOPLE = {
  alice: { name: 'Alice Chen', email: 'alice@example.com', phone: '+8613800000002', slackMemberId: 'U0ALICE', wecomUserId: 'alice.chen' },
  bob: { name: 'Bob', email: 'bob@example.com', phone: '+86 139 0000 0003', slackMemberId: 'U0BOB', wecomUserId: 'bob' },
  carol: { name: 'Carol', email: 'carol@example.com' },
  olga: { name: 'Olga', email: 'olga@example.com', phone: '+8613700000005', slackMemberId: 'W0OLGA', wecomUserId: 'olga' },
};
/** The first admin: an OWNER of the project it creates, with no handles (Feishu/Lark mention everyone by email). */
const ADMIN = { name: 'Admin', email: 'admin@herald.local' };
type Who = keyof typeof PEOPLE | 'admin';
const person = (who: Who): { name: string; email: string; phone?: string; slackMemberId?: string; wecomUserId?: string } => (who === 'admin' ? ADMIN : PEOPLE[who]);

/** What each provider pings for a set of people (those without a handle are only named). */
const expectedPings = (type: string, who: Who[]): string[] => {
  const people = who.map(person);
  const has = <K extends 'phone' | 'slackMemberId' | 'wecomUserId'>(key: K) => people.filter((p) => p[key]).map((p) => p[key]!);
  switch (type) {
    case 'SLACK':
      return has('slackMemberId').map((id) => `<@${id}>`);
    case 'DINGTALK': {
      const mobiles = has('phone').map((phone) => phone.replace(/\D/g, '').replace(/^86/, ''));
      return mobiles.length > 0 ? [JSON.stringify({ atMobiles: mobiles, isAtAll: false })] : [];
    }
    case 'FEISHU':
    case 'LARK':
      return people.map((p) => `<at email=${p.email}>`);
    case 'WECOM':
      return has('wecomUserId').map((id) => `<@${id}>`);
    default:
      return [];
  }
};

describe('an approval and rollout walk, delivered to every provider', () => {
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const t = useTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
  const receivers = new Map<string, Receiver>();
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};

  const as = (who: Who) => ({ Authorization: who === 'admin' ? t.auth.Authorization : `Bearer ${tokens[who]}` });
  const call = (who: Who, path: string, body: object = {}, expected = 200) =>
    t.http.post(path).set(as(who)).send(body).expect(expected).then((r) => r.body);
  /** Schedules and sends every due delivery, moving the clock past each provider's pace. */
  const pump = async () => {
    for (let round = 0; round < 10; round++) {
      await t.app.get(WebhookSubscription).catchUp();
      await t.app.get(DeliveryDispatcher).runOnce();
      const waiting = await t.http.get(`/api/projects/${ids.project}/webhooks/${ids.SLACK}/deliveries?status=PENDING`).set(t.auth).then((r) => r.body.items.length);
      clock.advance(61_000);
      if (waiting === 0 && round > 0) return;
    }
  };
  const task = (who: Who, name: string, body: object, expected = 200) => call(who, `/api/issues/${ids.issue}/tasks/${ids[name]}/status`, body, expected);

  beforeAll(async () => {
    for (const s of SERVICES) {
      const receiver = await new Receiver().start();
      receiver.answer(s.reply);
      receivers.set(s.type, receiver);
    }
  });
  afterAll(async () => {
    for (const r of receivers.values()) await r.stop();
  });

  it('sets up people with their handles, a project with a two-step default approval, and a webhook of every type', async () => {
    for (const [who, person] of Object.entries(PEOPLE)) {
      const user = await call('admin', '/api/users', person, 201);
      tokens[who] = user.token;
      ids[who] = user.id;
    }
    expect((await t.http.get('/api/users/me').set(as('bob')).expect(200)).body).toMatchObject({ phone: '+8613900000003', slackMemberId: 'U0BOB', wecomUserId: 'bob' });
    ids.project = (await call('admin', '/api/projects', { name: 'Payments' }, 201)).id;
    for (const [who, role] of [['alice', 'DEVELOPER'], ['bob', 'DEVELOPER'], ['carol', 'DEVELOPER'], ['olga', 'OWNER']] as const) {
      await t.http.put(`/api/projects/${ids.project}/members/${ids[who]}`).set(t.auth).send({ role }).expect(200);
    }
    const steps = [{ approvers: [ids.bob, ids.carol] }, { role: 'OWNER' }];
    const project = (await t.http.patch(`/api/projects/${ids.project}`).set(t.auth).send({ approvalSteps: steps }).expect(200)).body;
    expect(project.approvalSteps).toEqual(steps);
    for (const s of SERVICES) {
      const url = `http://127.0.0.1:${receivers.get(s.type)!.port}${s.path}`;
      // one message per activity (what this test reads): no coalescing window, even for DingTalk and WeCom
      const coalesce = s.type === 'CUSTOM' ? {} : { coalesce: { windowSeconds: 0 } };
      const hook = await call('admin', `/api/projects/${ids.project}/webhooks`, { type: s.type, name: s.type, url, activityTypes: BYTEBASE_NAMES, ...coalesce }, 201);
      expect(hook.activityTypes).toEqual(HERALD_NAMES);
      ids[s.type] = hook.id;
    }
  });

  it('walks the approval: tasks are held until the last step is approved', async () => {
    const issue = await call(
      'alice',
      `/api/projects/${ids.project}/issues`,
      { name: 'Add index: users', type: 'bb.issue.database.schema.update', pipeline: { stages: [{ name: 'test', tasks: [{ name: 'db-test' }] }, { name: 'prod', tasks: [{ name: 'db-prod-1' }, { name: 'db-prod-2' }] }] } },
      201,
    );
    ids.issue = issue.id;
    [ids['db-test'], ids['db-prod-1'], ids['db-prod-2']] = issue.pipeline.stages.flatMap((s: any) => s.tasks.map((k: any) => k.id));
    expect(issue.approval).toEqual({
      status: 'PENDING',
      currentStep: 0,
      currentApprovers: [ids.bob, ids.carol],
      steps: [
        { approvers: [ids.bob, ids.carol], role: null, approvedBy: null, approvedAt: null },
        { approvers: null, role: 'OWNER', approvedBy: null, approvedAt: null },
      ],
      sentBack: null,
    });
    await pump();

    const held = await task('alice', 'db-test', { status: 'PENDING' }, 409);
    expect(held.detail).toMatch(/cannot leave PENDING_APPROVAL until the issue is approved: the issue's approval is PENDING at step 1 of 2/);
    expect((await call('olga', `/api/issues/${ids.issue}/approval/approve`, {}, 403)).detail).toMatch(/only an approver of step 1 of 2/);
    await call('bob', `/api/issues/${ids.issue}/approval/approve`);
    await pump();
    await call('olga', `/api/issues/${ids.issue}/approval/send-back`, { reason: 'needs a rollback plan' });
    await pump();
    expect((await call('olga', `/api/issues/${ids.issue}/approval/approve`, {}, 409)).detail).toMatch(/sent back/);
    expect((await call('bob', `/api/issues/${ids.issue}/approval/request`, {}, 403)).detail).toMatch(/creator/);
    await call('alice', `/api/issues/${ids.issue}/approval/request`);
    await pump();
    await call('carol', `/api/issues/${ids.issue}/approval/approve`);
    await pump();
    const approved = await call('olga', `/api/issues/${ids.issue}/approval/approve`);
    await pump();
    expect(approved.approval).toMatchObject({
      status: 'APPROVED',
      currentStep: null,
      steps: [{ approvedBy: ids.carol, approvedAt: expect.any(String) }, { approvedBy: ids.olga, approvedAt: expect.any(String) }],
    });
    expect((await call('olga', `/api/issues/${ids.issue}/approval/approve`, {}, 409)).detail).toMatch(/complete/);
  });

  it('runs the rollout: the first failure is announced once, completion once', async () => {
    for (const status of ['PENDING', 'RUNNING', 'DONE']) await task('alice', 'db-test', { status });
    for (const status of ['PENDING', 'RUNNING']) for (const name of ['db-prod-1', 'db-prod-2']) await task('alice', name, { status });
    await task('alice', 'db-prod-1', { status: 'FAILED', comment: 'lock timeout' });
    await pump();
    await task('alice', 'db-prod-2', { status: 'FAILED', comment: 'lock timeout' });
    await pump();
    for (const name of ['db-prod-1', 'db-prod-2']) for (const status of ['PENDING_APPROVAL', 'PENDING', 'RUNNING', 'DONE']) await task('alice', name, { status });
    await pump();
    await call('alice', `/api/issues/${ids.issue}/status`, { status: 'DONE' });
    await pump();
    const events = (await t.http.get(`/api/issues/${ids.issue}/events`).set(t.auth).expect(200)).body.map((e: any) => e.type);
    expect(events.filter((type: string) => type === 'issue.rollout-failed')).toHaveLength(1);
    expect(events.filter((type: string) => type === 'issue.rollout-completed')).toHaveLength(1);
  });

  /** Who each message of the walk mentions, in order. */
  const WALK: [title: string, mentions: Who[] | 'owners' | null][] = [
    ['Approval required', ['bob', 'carol']],
    ['Approval required', 'owners'],
    ['Issue sent back', ['alice']],
    ['Approval required', ['bob', 'carol']],
    ['Approval required', 'owners'],
    ['Issue approved', ['alice']],
    ['Rollout failed', null],
    ['Rollout completed', null],
  ];

  it.each(SERVICES.map((s) => s.type))('%s got each activity once in its order, delivered, pinging whom Herald mentions', async (type) => {
    const received = receivers.get(type)!.received;
    const titles = received.map((r) => TITLES.find((title) => r.body.includes(title)));
    expect(titles).toEqual(WALK.map(([title]) => title));
    received.forEach((r, i) => {
      const [, mentions] = WALK[i];
      // the project's owners (a role step): the admin and Olga
      const who: Who[] = mentions === 'owners' ? ['admin', 'olga'] : (mentions ?? []);
      // the Custom body keeps exactly the seed's keys: it names no one beyond them
      if (type === 'CUSTOM') return;
      expect({ i, pings: PINGS[type](r.json) }).toEqual({ i, pings: expectedPings(type, who) });
      for (const w of who) expect(r.body).toContain(person(w).name);
    });
    const deliveries = (await t.http.get(`/api/projects/${ids.project}/webhooks/${ids[type]}/deliveries`).set(t.auth).expect(200)).body.items;
    expect(deliveries.map((d: any) => d.status)).toEqual(WALK.map(() => 'DELIVERED'));
  });

  it('gives Custom receivers the seed’s keys, with Herald’s names and the issue filled', () => {
    const bodies = receivers.get('CUSTOM')!.received.map((r) => r.json);
    for (const body of bodies) {
      expect(Object.keys(body)).toEqual(['level', 'activity_type', 'title', 'description', 'link', 'creator_id', 'creator_name', 'created_ts', 'issue', 'project']);
      expect(body.issue).toMatchObject({ id: ids.issue, name: 'Add index: users' });
    }
    expect(bodies.map((b) => [b.activity_type, b.level])).toEqual([
      ['bb.issue.approval.requested', 'WARN'],
      ['bb.issue.approval.requested', 'WARN'],
      ['bb.issue.sent-back', 'WARN'],
      ['bb.issue.approval.requested', 'WARN'],
      ['bb.issue.approval.requested', 'WARN'],
      ['bb.issue.approved', 'SUCCESS'],
      ['bb.pipeline.failed', 'ERROR'],
      ['bb.pipeline.completed', 'SUCCESS'],
    ]);
    expect(bodies[2]).toMatchObject({ description: 'Olga sent back the issue: needs a rollback plan', creator_name: 'Olga' });
    expect(bodies[5]).toMatchObject({ description: 'Olga approved the issue', creator_name: 'Olga' });
    expect(bodies[0]).toMatchObject({ creator_name: 'Alice Chen' });
    expect(bodies[6]).toMatchObject({ creator_name: 'Bytebase', link: expect.stringMatching(/\?stage=\d+$/) });
  });
});
