import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver, type Reply } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

const json = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** Each chat service, emulated: the path it is reached at, how it answers, and what its body must look like. */
const SERVICES: { type: string; path: string; reply: Reply; secret?: string; check: (body: any, path: string) => void }[] = [
  {
    type: 'SLACK',
    path: '/services/T0/B0/token',
    reply: { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } },
    check: (b) => {
      expect(b.text).toContain('Issue created - Ship it');
      expect(b.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('Issue created - Ship it') } });
      expect(b.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [expect.objectContaining({ text: expect.objectContaining({ text: 'View in Bytebase' }) })] });
    },
  },
  {
    type: 'DISCORD',
    path: '/api/webhooks/1/token',
    reply: { status: 204 },
    check: (b) => {
      expect(b.embeds[0]).toMatchObject({ title: expect.stringContaining('Issue created - Ship it'), color: 0x1264a3, url: expect.stringContaining('/issue/ship-it-') });
      expect(b.allowed_mentions).toEqual({ parse: [] });
    },
  },
  {
    type: 'TEAMS',
    path: '/workflows/token',
    reply: { status: 202 },
    check: (b) => {
      expect(b).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: expect.objectContaining({ version: '1.4' }) }] });
      expect(JSON.stringify(b)).toContain('View in Bytebase');
    },
  },
  {
    type: 'DINGTALK',
    path: '/robot/send?access_token=token',
    reply: json({ errcode: 0, errmsg: 'ok' }),
    secret: 'SECdingtalk-secret-123',
    check: (b, path) => {
      expect(b).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.any(String), text: expect.stringContaining('# Issue created - Ship it') } });
      expect(b.markdown.text).toContain('View in Bytebase');
      expect(path).toMatch(/^\/robot\/send\?access_token=token&timestamp=\d+&sign=/);
    },
  },
  {
    type: 'FEISHU',
    path: '/open-apis/bot/v2/hook/token',
    reply: json({ code: 0, msg: 'success' }),
    check: (b) => {
      expect(b).toMatchObject({ msg_type: 'interactive', card: { header: { title: { tag: 'plain_text', content: 'Issue created - Ship it' }, template: 'blue' } } });
      expect(JSON.stringify(b)).toContain('View in Bytebase');
    },
  },
  {
    type: 'LARK',
    path: '/open-apis/bot/v2/hook/token2',
    reply: json({ StatusCode: 0, StatusMessage: 'success' }),
    check: (b) => expect(b.msg_type).toBe('interactive'),
  },
  {
    type: 'WECOM',
    path: '/cgi-bin/webhook/send?key=token',
    reply: json({ errcode: 0, errmsg: 'ok' }),
    check: (b) => {
      expect(b).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('# Issue created - Ship it') } });
      expect(b.markdown.content).toContain('View in Bytebase');
    },
  },
];

describe('each chat provider gets its own format from an emulated endpoint', () => {
  const t = useTestApp({ clock: new ManualClock(new Date()), env: LOCAL_WEBHOOK_ENV });
  const receivers = new Map<string, Receiver>();

  beforeAll(async () => {
    for (const s of SERVICES) {
      const r = await new Receiver().start();
      r.answer(s.reply);
      receivers.set(s.type, r);
    }
  });
  afterAll(async () => {
    for (const r of receivers.values()) await r.stop();
  });

  it('delivers an issue creation to every provider, judged delivered from the real answers', async () => {
    const a = api(t);
    const project = await a.createProject('Chat');
    const hooks: Record<string, number> = {};
    for (const s of SERVICES) {
      const url = `http://127.0.0.1:${receivers.get(s.type)!.port}${s.path}`;
      hooks[s.type] = (await a.post(`/api/projects/${project.id}/webhooks`, { type: s.type, name: s.type, url, activityTypes: ['bb.issue.create'], ...(s.secret ? { signingSecret: s.secret } : {}) }, 201)).id;
    }
    await a.createIssue(project.id, { name: 'Ship it' });
    await t.app.get(WebhookSubscription).catchUp();
    expect(await t.app.get(DeliveryDispatcher).runOnce()).toBe(SERVICES.length);
    for (const s of SERVICES) {
      const [received] = receivers.get(s.type)!.received;
      expect(received.headers['content-type']).toMatch(/^application\/json/);
      s.check(received.json, received.path);
      const [delivery] = (await a.get(`/api/projects/${project.id}/webhooks/${hooks[s.type]}/deliveries`)).items;
      expect({ type: s.type, status: delivery.status }).toEqual({ type: s.type, status: 'DELIVERED' });
    }
  });
});
