import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { CUSTOM } from '../../../src/webhooks/providers/custom.js';
import { DINGTALK } from '../../../src/webhooks/providers/dingtalk.js';
import { FEISHU, LARK } from '../../../src/webhooks/providers/feishu.js';
import { ACTIVITIES, NOW, NOW_MS, ctx, hook } from './activities.js';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

describe('Custom', () => {
  const render = (overrides = {}, activity = ACTIVITIES.taskCanceled, context = ctx) => CUSTOM.render(activity, hook('CUSTOM', overrides), context);

  describe('body', () => {
    it('has exactly the seed keys, in order, with their types and values', () => {
      const body = JSON.parse(render().body);
      expect(Object.keys(body)).toEqual(['level', 'activity_type', 'title', 'description', 'link', 'creator_id', 'creator_name', 'created_ts', 'issue', 'project']);
      expect(body).toEqual({
        level: 'WARN',
        activity_type: 'bb.pipeline.task.status.update',
        title: 'Task canceled - db-prod-1',
        description: 'Maintenance window closed',
        link: 'https://herald.example.com/issue/add-index-users-42',
        creator_id: 2,
        creator_name: 'Alice Chen',
        created_ts: 1777627800,
        issue: { id: 42, name: 'Add index: users', status: 'OPEN', type: 'bb.issue.database.schema.update', description: 'Adds an index on users(email).' },
        project: { id: 7, name: 'Demo' },
      });
      expect(Number.isInteger(body.creator_id)).toBe(true);
      expect(typeof body.creator_name).toBe('string');
      expect(Number.isInteger(body.created_ts)).toBe(true);
      expect(Object.keys(body.issue)).toEqual(['id', 'name', 'status', 'type', 'description']);
      expect(Object.keys(body.project)).toEqual(['id', 'name']);
    });

    it('has issue null for the test message, and the event time (not the attempt time) as created_ts', () => {
      const body = JSON.parse(render({}, ACTIVITIES.testMessage, { ...ctx, now: new Date('2030-01-01T00:00:00Z') }).body);
      expect(body.issue).toBeNull();
      expect(body.created_ts).toBe(1777627800);
      expect(body.activity_type).toBe('bb.issue.create');
      expect(body.title).toBe('Test webhook "Team chat"');
    });

    it('sends bb.pipeline.stage.status.update too', () => {
      expect(JSON.parse(render({}, ACTIVITIES.stageEnded).body).activity_type).toBe('bb.pipeline.stage.status.update');
    });

    it('is the same on every attempt; only webhook-timestamp and the signature change', () => {
      const secret = newSecret();
      const first = render({ signingSecrets: [secret] });
      const second = render({ signingSecrets: [secret] }, ACTIVITIES.taskCanceled, { ...ctx, now: new Date(NOW_MS + 300_000) });
      expect(second.body).toBe(first.body);
      expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(300);
      expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
    });
  });

  describe('headers', () => {
    it('has Content-Type, User-Agent and the Standard Webhooks id and timestamp, and no signature without a secret', () => {
      expect(render().headers).toEqual({
        'Content-Type': 'application/json',
        'User-Agent': 'Herald-Webhook/0.1.0',
        'webhook-id': 'msg_2VwXoDzgJ9Rk4b1tQ8e',
        'webhook-timestamp': String(Math.floor(NOW_MS / 1000)),
      });
    });

    it('adds the custom headers, which cannot override Content-Type or any webhook-* header', () => {
      const secret = newSecret();
      const headers = render({
        signingSecrets: [secret],
        headers: {
          Authorization: 'Bearer t0k',
          'X-Team': 'db',
          'content-type': 'text/plain',
          'Webhook-Id': 'forged',
          'webhook-id': 'forged',
          'WEBHOOK-TIMESTAMP': '1',
          'webhook-signature': 'v1,forged',
          'Content-Length': '1',
          Host: 'evil.example.com',
          'X-Injected': 'a\r\nX-Evil: 1',
        },
      }).headers;
      expect(headers.Authorization).toBe('Bearer t0k');
      expect(headers['X-Team']).toBe('db');
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(Object.keys(lower)).toHaveLength(Object.keys(headers).length); // no name twice in another case
      expect(lower['content-type']).toBe('application/json');
      expect(lower['webhook-id']).toBe('msg_2VwXoDzgJ9Rk4b1tQ8e');
      expect(lower['webhook-timestamp']).toBe(String(Math.floor(NOW_MS / 1000)));
      expect(lower['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(lower).not.toHaveProperty('content-length');
      expect(lower).not.toHaveProperty('host');
      expect(lower).not.toHaveProperty('x-injected');
    });

    it('lets the operator replace the User-Agent without sending it twice', () => {
      const headers = render({ headers: { 'user-agent': 'Acme/1' } }).headers;
      expect(headers['user-agent']).toBe('Acme/1');
      expect(headers).not.toHaveProperty('User-Agent');
    });
  });

  describe('signature', () => {
    // The standardwebhooks library checks the timestamp against the real clock: sign "now".
    const live = () => ({ ...ctx, now: new Date() });

    it('verifies with the standardwebhooks library', () => {
      const secret = newSecret();
      const request = render({ signingSecrets: [secret] }, ACTIVITIES.commentCreated, live());
      expect(new Webhook(secret).verify(request.body, request.headers)).toEqual(JSON.parse(request.body));
    });

    it('verifies with both secrets during a rotation: one v1 entry per secret', () => {
      const [newer, older] = [newSecret(), newSecret()];
      const request = render({ signingSecrets: [newer, older] }, ACTIVITIES.issueCreated, live());
      expect(request.headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(() => new Webhook(newer).verify(request.body, request.headers)).not.toThrow();
      expect(() => new Webhook(older).verify(request.body, request.headers)).not.toThrow();
      expect(() => new Webhook(newSecret()).verify(request.body, request.headers)).toThrow();
    });

    it('fails verification when the body or the id is changed', () => {
      const secret = newSecret();
      const request = render({ signingSecrets: [secret] }, ACTIVITIES.issueCreated, live());
      expect(() => new Webhook(secret).verify(request.body.replace('Demo', 'Dem0'), request.headers)).toThrow();
      expect(() => new Webhook(secret).verify(request.body, { ...request.headers, 'webhook-id': 'msg_other' })).toThrow();
    });

    it('is HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed with the decoded secret', () => {
      const key = randomBytes(32);
      const request = render({ signingSecrets: [`whsec_${key.toString('base64')}`] });
      const expected = createHmac('sha256', key).update(`msg_2VwXoDzgJ9Rk4b1tQ8e.${Math.floor(NOW_MS / 1000)}.${request.body}`).digest('base64');
      expect(request.headers['webhook-signature']).toBe(`v1,${expected}`);
    });
  });
});

describe('DingTalk signing', () => {
  const secret = 'SECb0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1';
  // Independently: Base64(HMAC-SHA256(key = secret, "{ms}\n{secret}")), URL-encoded.
  const expectedSign = (ms: number) => encodeURIComponent(createHmac('sha256', secret).update(`${ms}\n${secret}`).digest('base64'));

  it('appends &timestamp={ms}&sign={urlencoded signature} to a URL with a query', () => {
    const request = DINGTALK.render(ACTIVITIES.issueCreated, hook('DINGTALK', { signingSecrets: [secret] }), ctx);
    expect(request.url).toBe(`https://oapi.dingtalk.com/robot/send?access_token=tok123&timestamp=${NOW_MS}&sign=${expectedSign(NOW_MS)}`);
    const url = new URL(request.url);
    expect(url.searchParams.get('timestamp')).toBe('1777636800000');
    expect(url.searchParams.get('sign')).toBe(createHmac('sha256', secret).update(`${NOW_MS}\n${secret}`).digest('base64'));
  });

  it('uses ? when the URL has no query', () => {
    const request = DINGTALK.render(ACTIVITIES.issueCreated, hook('DINGTALK', { url: 'https://oapi.dingtalk.com/robot/send', signingSecrets: [secret] }), ctx);
    expect(request.url).toBe(`https://oapi.dingtalk.com/robot/send?timestamp=${NOW_MS}&sign=${expectedSign(NOW_MS)}`);
  });

  it('signs with the newest secret and the time of the attempt', () => {
    const later = new Date(NOW_MS + 90_000);
    const request = DINGTALK.render(ACTIVITIES.issueCreated, hook('DINGTALK', { signingSecrets: [secret, 'SECold'] }), { ...ctx, now: later });
    expect(request.url).toContain(`&timestamp=${NOW_MS + 90_000}&sign=${expectedSign(NOW_MS + 90_000)}`);
  });

  it('signs the fixed example of a known key and time', () => {
    // HMAC-SHA256(key "SEC000", "1700000000000\nSEC000") computed by node:crypto, not by the adapter.
    const mac = createHmac('sha256', 'SEC000').update('1700000000000\nSEC000').digest('base64');
    const request = DINGTALK.render(ACTIVITIES.issueCreated, hook('DINGTALK', { signingSecrets: ['SEC000'] }), { ...ctx, now: new Date(1700000000000) });
    expect(new URL(request.url).searchParams.get('sign')).toBe(mac);
    expect(request.url).toContain(`sign=${encodeURIComponent(mac)}`);
  });
});

describe.each([
  ['Feishu', FEISHU],
  ['Lark', LARK],
] as const)('%s signing', (_name, adapter) => {
  const secret = 'dGhpcyBpcyBhIHNlY3JldA';

  it('adds top-level timestamp (seconds, as a string) and sign = Base64(HMAC-SHA256(key "{ts}\\n{secret}", empty message))', () => {
    const request = adapter.render(ACTIVITIES.issueCreated, hook(adapter.type, { signingSecrets: [secret] }), ctx);
    const body = JSON.parse(request.body);
    const timestamp = String(Math.floor(NOW.getTime() / 1000));
    expect(body.timestamp).toBe(timestamp);
    expect(typeof body.timestamp).toBe('string');
    expect(body.sign).toBe(createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64'));
    expect(body.msg_type).toBe('interactive');
    expect(request.url).toBe(hook(adapter.type).url);
  });
});
