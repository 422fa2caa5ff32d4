import { ManualClock } from '../../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../../src/webhooks/subscription/webhook-subscription.js';
import { dmWalk } from '../../support/dm-walk.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../../support/receiver.js';
import { useTestApp } from '../../support/test-app.js';
import { SlackApi } from '../../support/vendors/slack-api.js';

/*
 * Direct messages within the webhook's delivery policy, on the engine under test (Slack's Web API
 * emulated): an IM app's trouble is not the channel's (health, ordered lines, pace), and a DM
 * that runs out of retries still tells the person, in the channel.
 */

const BOT_TOKEN = 'xoxb-1111-2222-abcdefghijkl';
const MEMBERS = { 'alice@example.com': 'U0ALICE', 'bob@example.com': 'U0BOB', 'carol@example.com': 'U0CAROL', 'erin@example.com': 'U0ERIN', 'frank@example.com': 'U0FRANK', 'gina@example.com': 'U0GINA' };
const person = (name: string) => ({ name: name[0].toUpperCase() + name.slice(1), email: `${name}@example.com`, slackMemberId: MEMBERS[`${name}@example.com` as keyof typeof MEMBERS] });
const PEOPLE = Object.fromEntries(['alice', 'bob', 'carol', 'erin', 'frank', 'gina'].map((name) => [name, person(name)]));
const SLACK_DOWN = { status: 200, body: { ok: false, error: 'internal_error' } };
// two retries 5 s apart: a DM's retries run out within a few pumps
const ENV = { ...LOCAL_WEBHOOK_ENV, WEBHOOK_RETRY_SCHEDULE: '5s,5s' };

function setting() {
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const t = useTestApp({ clock, env: ENV });
  const walk = dmWalk(t, clock);
  const slack = new SlackApi(BOT_TOKEN, MEMBERS);
  const channel = new Receiver();
  beforeAll(async () => {
    await slack.start();
    await channel.start();
    channel.answer({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
  });
  afterAll(async () => {
    await slack.stop();
    await channel.stop();
  });
  const webhook = async () => (await t.http.get(`/api/projects/${walk.ids.project}/webhooks/${walk.ids.webhook}`).set(t.auth).expect(200)).body;
  /** One look at the queue, the clock where it is. */
  const dispatchNow = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };
  const setUp = (approvers: string[]) =>
    walk.setUp(PEOPLE, approvers, { type: 'SLACK', channelUrl: channel.url('/services/T0/B0/x') }, { credentials: { botToken: BOT_TOKEN }, apiBase: slack.base });
  return { clock, t, walk, slack, channel, webhook, dispatchNow, setUp };
}

describe('DMs whose IM app is down', () => {
  const s = setting();

  it('leave the webhook healthy, and tell each person in the channel once their retries run out', async () => {
    await s.setUp(['bob', 'carol', 'erin', 'frank', 'gina']);
    // every call of chat.postMessage fails for the whole retry window (5 people × 3 attempts, and the tries
    // again of those whose fall-back waited for the channel's pace slot)
    s.slack.answerNext('POST /api/chat.postMessage', ...Array(40).fill(SLACK_DOWN));
    await s.walk.createIssue('alice');
    await s.walk.pump();

    expect(s.slack.of('POST /api/chat.postMessage').length).toBeGreaterThanOrEqual(15);
    expect(s.slack.dms).toEqual([]);
    expect(await s.webhook()).toMatchObject({ state: 'ACTIVE', consecutiveFailures: 0 });
    const dms = (await s.walk.deliveries()).filter((d) => d.recipientId !== null);
    expect(dms).toHaveLength(5);
    expect(dms.every((d) => d.status === 'DELIVERED' && d.attemptCount === 3 && d.lastError.includes('retries exhausted'))).toBe(true);
    // the channel: its own message, then one mention of each person nobody could tell directly
    const posts = s.channel.received.map((r) => JSON.stringify(r.json.blocks));
    expect(posts).toHaveLength(6);
    for (const id of ['U0BOB', 'U0CAROL', 'U0ERIN', 'U0FRANK', 'U0GINA']) expect(posts.filter((p) => p.includes(`<@${id}>`))).toHaveLength(1);
    const requested = (await s.walk.decisions()).items.find((i: any) => i.activityType === 'bb.issue.approval.requested');
    expect(requested.decisions[0].directMessages.map((d: any) => d.decision)).toEqual(Array(5).fill('dm-fell-back'));
  });
});

describe('DMs that go while the channel is down', () => {
  const s = setting();

  it('do not hide the channel’s failures from the webhook’s health', async () => {
    await s.setUp(['bob', 'carol']);
    s.channel.answer({ status: 500, body: 'down', headers: { 'content-type': 'text/plain' } });
    await s.walk.createIssue('alice');
    await s.walk.pump();

    expect(s.slack.dms.map((dm) => dm.user).sort()).toEqual(['U0BOB', 'U0CAROL']);
    const channelMessage = (await s.walk.deliveries()).find((d) => d.recipientId === null);
    expect(channelMessage).toMatchObject({ status: 'FAILED', attemptCount: 3 });
    // three failed attempts in a row, whatever the DMs did meanwhile
    expect(await s.webhook()).toMatchObject({ consecutiveFailures: 3 });
  });
});

describe('DMs of an ordered webhook', () => {
  const s = setting();

  it('do not hold back the issue’s later channel messages while they wait for a retry', async () => {
    await s.setUp(['bob']);
    await s.t.http.patch(`/api/projects/${s.walk.ids.project}/webhooks/${s.walk.ids.webhook}`).set(s.t.auth).send({ ordered: true }).expect(200);
    s.slack.answerNext('POST /api/chat.postMessage', SLACK_DOWN);
    await s.walk.createIssue('alice');
    await s.dispatchNow();
    expect((await s.walk.deliveries()).find((d) => d.recipientId === s.walk.ids.bob)).toMatchObject({ status: 'RETRYING' });

    // later in the same second: the issue is approved; its channel message goes now (the pace's second has passed)
    s.clock.advance(1_000);
    await s.walk.call('bob', `/api/issues/${s.walk.ids.issue}/approval/approve`);
    await s.dispatchNow();
    const posted = s.channel.received.map((r) => r.json.text);
    expect(posted).toHaveLength(2);
    expect(posted[1]).toBe('Issue approved');
    expect((await s.walk.deliveries()).find((d) => d.recipientId === s.walk.ids.bob)).toMatchObject({ status: 'RETRYING' });
  });
});

describe('DMs and the pace', () => {
  const s = setting();

  it('post their fall-backs to the channel at the channel’s pace', async () => {
    // Dave, Hank and Ivy have member ids Slack does not know: each falls back to the channel
    const strangers = { dave: { name: 'Dave', email: 'dave@example.com', slackMemberId: 'U0DAVE' }, hank: { name: 'Hank', email: 'hank@example.com', slackMemberId: 'U0HANK' }, ivy: { name: 'Ivy', email: 'ivy@example.com', slackMemberId: 'U0IVY' } };
    await s.walk.setUp({ ...PEOPLE, ...strangers }, ['dave', 'hank', 'ivy'], { type: 'SLACK', channelUrl: s.channel.url('/services/T0/B0/x') }, { credentials: { botToken: BOT_TOKEN }, apiBase: s.slack.base });
    await s.walk.createIssue('alice');
    await s.dispatchNow();
    // Slack's incoming webhooks take one message a second: the channel's message went, the fall-backs wait
    expect(s.channel.received).toHaveLength(1);
    await s.walk.pump();
    const posts = s.channel.received.map((r) => ({ blocks: JSON.stringify(r.json.blocks) }));
    expect(posts).toHaveLength(4);
    for (const id of ['U0DAVE', 'U0HANK', 'U0IVY']) expect(posts.filter((p) => p.blocks.includes(`<@${id}>`))).toHaveLength(1);
  });

  it('wait on the IM app’s own 429, not the channel’s pace', async () => {
    s.clock.advance(10_000);
    // Slack's API asks for 5 minutes: the approver's DM waits; the channel does not
    s.slack.answerNext('POST /api/chat.postMessage', { status: 429, headers: { 'retry-after': '300' }, body: { ok: false, error: 'ratelimited' } });
    const before = s.channel.received.length;
    // a second issue asks Alice's approval: her DM meets the 429, the channel message goes
    await s.t.http.patch(`/api/projects/${s.walk.ids.project}`).set(s.t.auth).send({ approvalSteps: [{ approvers: [s.walk.ids.alice] }] }).expect(200);
    await s.walk.createIssue('bob');
    await s.dispatchNow();
    expect(s.channel.received.length).toBe(before + 1);
    const alices = (await s.walk.deliveries()).find((d) => d.recipientId === s.walk.ids.alice);
    expect(alices).toMatchObject({ status: 'RETRYING' });
    // a third issue a second later: its channel message goes; Alice's next DM waits for Slack's API
    s.clock.advance(1_000);
    await s.walk.createIssue('bob');
    await s.dispatchNow();
    expect(s.channel.received.length).toBe(before + 2);
    expect(s.slack.of('POST /api/chat.postMessage').filter((c) => c.json.channel === 'U0ALICE')).toHaveLength(1);
  });
});
