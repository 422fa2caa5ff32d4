import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api, twoStages } from '../support/api.js';
import { Receiver, type Reply } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

/*
 * Google Chat end to end against an emulated space on 127.0.0.1, allowed for Google Chat alone by
 * WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT: the space's URL with its key and token, every activity as a card,
 * a throttled answer retried after Retry-After.
 */

const ALL = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update', 'bb.issue.status.update', 'bb.pipeline.stage.status.update', 'bb.pipeline.task.status.update'];
/** What Chat answers a posted message with: the message resource. */
const created: Reply = { status: 200, body: JSON.stringify({ name: 'spaces/AAAA/messages/m1', createTime: '2026-05-01T12:00:00Z' }), headers: { 'content-type': 'application/json; charset=UTF-8' } };
const throttled: Reply = { status: 429, body: JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }), headers: { 'content-type': 'application/json', 'retry-after': '30' } };

describe('Google Chat webhooks, end to end', () => {
  const clock = new ManualClock(new Date('2026-05-01T12:00:00Z'));
  const t = useTestApp({
    clock,
    random: () => 0.5,
    env: {
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_TIMEOUT_MS: '2000',
      HERALD_BACKGROUND_WORKERS: 'false',
      // the emulated space's host, for Google Chat only
      WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT: '127.0.0.1',
    },
  });
  let a: ReturnType<typeof api>;
  let space: Receiver;
  const pump = async () => {
    await t.app.get(WebhookSubscription).catchUp();
    return t.app.get(DeliveryDispatcher).runOnce();
  };

  beforeAll(async () => {
    space = await new Receiver().start();
    a = api(t);
  });
  afterAll(async () => {
    await space.stop();
  });

  it('accepts the space URL for GOOGLE_CHAT (and its Bytebase name) on the operator’s host, and no other type there', async () => {
    const project = await a.createProject('Hosts');
    const url = space.url('/v1/spaces/AAAA/messages?key=k1&token=t1');
    const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'bb.plugin.webhook.google_chat', name: 'room', url, activityTypes: ALL }, 201);
    expect(hook).toMatchObject({ type: 'GOOGLE_CHAT' });
    expect(JSON.stringify(hook)).not.toContain('t1');
    const slack = await t.http.post(`/api/projects/${project.id}/webhooks`).set(t.auth).send({ type: 'SLACK', name: 's', url: space.url('/services/x'), activityTypes: ALL }).expect(400);
    expect(slack.body.errors[0]).toEqual({ field: 'url', message: expect.stringContaining('not allowed for SLACK') });
    const google = await t.http.post(`/api/projects/${project.id}/webhooks`).set(t.auth).send({ type: 'GOOGLE_CHAT', name: 'g', url: 'https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k', activityTypes: ALL }).expect(400);
    expect(google.body.errors[0]).toEqual({ field: 'url', message: expect.stringContaining('key and token') });
    const types = await a.get('/api/webhook-types');
    expect(types.find((x: { type: string }) => x.type === 'GOOGLE_CHAT')).toMatchObject({ displayName: 'Google Chat', hosts: ['chat.googleapis.com', '127.0.0.1'] });
  });

  it('posts every activity of a workflow to the space as a card; a 429 holds the space until Retry-After, then all go in order', async () => {
    const project = await a.createProject('Chat');
    const hook = await a.post(`/api/projects/${project.id}/webhooks`, { type: 'GOOGLE_CHAT', name: 'room', url: space.url('/v1/spaces/BBBB/messages?key=k2&token=t2'), activityTypes: ALL }, 201);
    space.received.length = 0;
    space.answer(throttled, created);
    const issue = await a.createIssue(project.id, { name: 'Ship it <users/all>', pipeline: twoStages });
    await a.comment(issue.id, 'ready @all <users/all>');
    await pump();
    // the first was throttled: the space takes nothing for 30 s, so nothing more went
    const first = (await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`)).items.find((d: { activityType: string }) => d.activityType === 'bb.issue.create');
    expect(first).toMatchObject({ status: 'RETRYING', lastError: expect.stringContaining('429') });
    expect(space.received).toHaveLength(1);
    for (let i = 0; i < 29; i++) {
      clock.advance(1000);
      await pump();
    }
    expect(space.received).toHaveLength(1);
    for (let i = 0; i < 11; i++) {
      clock.advance(1000);
      await pump();
    }
    const { items } = await a.get(`/api/projects/${project.id}/webhooks/${hook.id}/deliveries`);
    expect(items.map((d: { status: string }) => d.status)).toEqual(items.map(() => 'DELIVERED'));
    expect(items.length).toBe(3);
    const bodies = space.received.map((r) => r.json);
    expect(space.received.every((r) => r.path === '/v1/spaces/BBBB/messages?key=k2&token=t2' && /^application\/json/.test(String(r.headers['content-type'])))).toBe(true);
    // the wait over, the throttled message came again first, and the others after it, in order
    const titles = bodies.map((b) => b.cardsV2[0].card.header.title);
    expect(titles).toEqual(['Issue created - Ship it <\u200Busers/all>', 'Issue created - Ship it <\u200Busers/all>', 'Stage begins - test', 'Comment created - Ship it <\u200Busers/all>']);
    expect(bodies.map((b) => b.text)).toEqual(titles);
    for (const b of bodies) {
      expect(b.cardsV2[0].card.sections.at(-1).widgets[0].buttonList.buttons[0]).toEqual({ text: 'View in Bytebase', onClick: { openLink: { url: expect.stringContaining('/issue/ship-it-users-all-') } } });
      expect(JSON.stringify(b)).not.toMatch(/<users\//);
    }
    const comment = bodies[3].cardsV2[0].card.sections[0].widgets[0].textParagraph.text;
    expect(comment).toBe('ready @all &lt;users/all&gt;');
  });
});
