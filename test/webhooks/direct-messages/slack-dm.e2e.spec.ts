import { ManualClock } from '../../../src/shared/clock.js';
import { dmWalk } from '../../support/dm-walk.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../../support/receiver.js';
import { useTestApp } from '../../support/test-app.js';
import { SlackApi } from '../../support/vendors/slack-api.js';

/*
 * Slack direct messages end to end on the engine under test, against an emulation of Slack's Web
 * API (users.lookupByEmail, chat.postMessage): each approver asked is told once, by the member id
 * they set or the one Slack finds by their email; one Slack cannot reach is mentioned in the
 * webhook's channel instead, and the decisions route says which.
 */

const BOT_TOKEN = 'xoxb-1111-2222-abcdefghijkl';
const PEOPLE = {
  alice: { name: 'Alice', email: 'alice@example.com', slackMemberId: 'U0ALICE' },
  bob: { name: 'Bob', email: 'bob@example.com', slackMemberId: 'U0BOB' },
  carol: { name: 'Carol', email: 'carol@example.com' },
  // a member id Slack does not know (a deactivated member): chat.postMessage answers channel_not_found
  erin: { name: 'Erin', email: 'erin@example.com', slackMemberId: 'U0ERIN' },
  // no member id, and an email nobody in the workspace has: users_not_found
  dave: { name: 'Dave', email: 'dave@elsewhere.example' },
};

describe('Slack direct messages', () => {
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const t = useTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
  const walk = dmWalk(t, clock);
  const slack = new SlackApi(BOT_TOKEN, { 'alice@example.com': 'U0ALICE', 'bob@example.com': 'U0BOB', 'carol@example.com': 'U0CAROL' });
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

  it('tells each approver asked once, and mentions in the channel those Slack cannot reach', async () => {
    await walk.setUp(PEOPLE, ['bob', 'carol', 'erin', 'dave'], { type: 'SLACK', channelUrl: channel.url('/services/T0/B0/x') }, { credentials: { botToken: BOT_TOKEN }, apiBase: slack.base });
    await walk.createIssue('alice');
    await walk.pump();

    expect(slack.dms.map((dm) => dm.user).sort()).toEqual(['U0BOB', 'U0CAROL']);
    const bob = slack.dms.find((dm) => dm.user === 'U0BOB')!.body;
    expect(bob.channel).toBe('U0BOB');
    expect(bob.text).toBe('Approval required');
    expect(JSON.stringify(bob.blocks)).toContain('View in Bytebase');
    // the person told directly is not pinged in their own message
    expect(JSON.stringify(bob.blocks)).not.toContain('<@U0BOB>');
    // looked up only those without a member id, once each
    expect(slack.of('GET /api/users.lookupByEmail').map((c) => c.query.get('email')).sort()).toEqual(['carol@example.com', 'dave@elsewhere.example']);
    expect(slack.calls.every((c) => c.headers.authorization === `Bearer ${BOT_TOKEN}`)).toBe(true);

    // the channel: its own message (nobody pinged: each approver had a way to be told), then a fall-back for Erin and one for Dave
    const posted = channel.received.map((r) => JSON.stringify(r.json.blocks));
    expect(posted).toHaveLength(3);
    expect(posted.filter((b) => b.includes('<@U0ERIN>'))).toHaveLength(1);
    expect(posted.some((b) => b.includes('<@U0BOB>') || b.includes('<@U0CAROL>'))).toBe(false);

    const decisions = await walk.decisions();
    const requested = decisions.items.find((i: any) => i.activityType === 'bb.issue.approval.requested');
    const dms = requested.decisions[0].directMessages;
    const byUser = Object.fromEntries(dms.map((d: any) => [d.userId, d]));
    expect(byUser[walk.ids.bob]).toMatchObject({ decision: 'dm-sent', status: 'DELIVERED' });
    expect(byUser[walk.ids.carol]).toMatchObject({ decision: 'dm-sent', status: 'DELIVERED' });
    expect(byUser[walk.ids.erin]).toMatchObject({ decision: 'dm-fell-back', reason: expect.stringContaining('channel_not_found') });
    expect(byUser[walk.ids.dave]).toMatchObject({ decision: 'dm-fell-back', reason: expect.stringContaining('users_not_found') });

    // the delivery log: one channel message and one delivery per person, each with its own id
    const deliveries = await walk.deliveries();
    expect(deliveries.map((d) => d.recipientId).sort()).toEqual([null, walk.ids.bob, walk.ids.carol, walk.ids.dave, walk.ids.erin].sort());
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(5);
    expect(deliveries.every((d) => d.status === 'DELIVERED')).toBe(true);
    const bobs = deliveries.find((d) => d.recipientId === walk.ids.bob);
    const detail = (await t.http.get(`/api/projects/${walk.ids.project}/webhooks/${walk.ids.webhook}/deliveries/${bobs.id}`).set(t.auth).expect(200)).body;
    expect(detail.attempts[0].request.url).toBe(`${slack.base}/***`);
    // the bot token is a credential: never recorded
    expect(JSON.stringify(detail)).not.toContain(BOT_TOKEN);
  });

  it('tells the creator once when the issue is approved, after Slack’s 429 (Retry-After honoured)', async () => {
    slack.answerNext('POST /api/chat.postMessage', { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } });
    await walk.call('bob', `/api/issues/${walk.ids.issue}/approval/approve`);
    await walk.pump();
    expect(slack.dms.filter((dm) => dm.user === 'U0ALICE')).toHaveLength(1);
    expect(slack.dms.find((dm) => dm.user === 'U0ALICE')!.body.text).toBe('Issue approved');
    const alices = (await walk.deliveries()).find((d) => d.recipientId === walk.ids.alice);
    expect(alices).toMatchObject({ status: 'DELIVERED', attemptCount: 2 });
  });

  it('sends one again on redelivery, under the same id', async () => {
    const alices = (await walk.deliveries()).find((d) => d.recipientId === walk.ids.alice);
    await t.http.post(`/api/projects/${walk.ids.project}/webhooks/${walk.ids.webhook}/deliveries/${alices.id}/redeliver`).set(t.auth).expect(202);
    await walk.pump();
    expect(slack.dms.filter((dm) => dm.user === 'U0ALICE')).toHaveLength(2);
  });
});
