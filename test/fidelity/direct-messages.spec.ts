import { readFileSync } from 'node:fs';
import type { Activity, Mention } from '../../src/webhooks/activity.js';
import { dmRecipients } from '../../src/webhooks/direct-messages/dm-deliveries.js';
import type { OpenedImApp } from '../../src/webhooks/direct-messages/messenger.js';
import { messengerFor } from '../../src/webhooks/direct-messages/messengers.js';
import { IM_APP_TYPES } from '../../src/webhooks/direct-messages/im-app-types.js';

/*
 * Herald's direct messages against what Bytebase 3.21's IM apps do (test/fidelity/bytebase-3.21/direct-messages.json,
 * written from its code): the same vendor calls in the same order, the same body keys, and the same people told;
 * each difference is listed here with its reason (docs/fidelity.md, "Direct messages").
 */

const bytebase = JSON.parse(readFileSync('test/fidelity/bytebase-3.21/direct-messages.json', 'utf8'));

const person = (id: number, name: string): Mention => ({ id, name, email: `${name.toLowerCase()}@example.com`, phone: '+8613800000001', slackMemberId: null, wecomUserId: null });
const [creator, approver1, approver2] = [person(2, 'Alice'), person(3, 'Bob'), person(4, 'Carol')];
const activity = (type: Activity['type'], mentions?: Mention[]): Activity => ({
  type,
  level: 'WARN',
  title: 'Approval required',
  description: '',
  link: 'https://herald.example.com/issue/x-1',
  actor: creator,
  createdTs: 0,
  project: { id: 1, name: 'Payments' },
  issue: { id: 1, name: 'x', status: 'OPEN', type: 'bb.issue.database.schema.update', description: '', creator },
  meta: [],
  ...(mentions ? { mentions } : {}),
});

/** Where Herald calls differently, and why (the same list is in docs/fidelity.md). */
const SKIPPED_STEPS: Record<string, string> = {
  // chat.postMessage takes the member id as `channel` (the app's DM): no conversation to open first
  SLACK: 'conversations.open',
  // Herald does not install its Teams app for people (an admin's setup policy does): no app catalog, no install
  TEAMS: 'appCatalogs, install',
};
const PATH_OF_LOOKUP: Record<string, string> = { TEAMS: '/v1.0/users/{email}/teamwork/installedApps' };

describe('direct messages, Herald against Bytebase 3.21', () => {
  it('tells the same people, but for a failed rollout Herald tells its creator too (issue 28)', () => {
    const approvers = activity('bb.issue.approval.requested', [approver1, approver2]);
    const toCreator = (type: Activity['type']) => activity(type, [creator]);
    const told = {
      'bb.issue.approval.requested': dmRecipients(approvers, creator),
      'bb.issue.approved': dmRecipients(toCreator('bb.issue.approved'), creator),
      'bb.issue.sent-back': dmRecipients(toCreator('bb.issue.sent-back'), creator),
      'bb.pipeline.failed': dmRecipients(activity('bb.pipeline.failed'), creator),
      'bb.pipeline.completed': dmRecipients(activity('bb.pipeline.completed'), creator),
    };
    const words = Object.fromEntries(Object.entries(told).map(([type, people]) => [type, people.length === 0 ? 'nobody' : people[0].id === creator.id ? 'creator' : 'approvers']));
    expect(words).toEqual({ ...bytebase.recipients, 'bb.pipeline.failed': 'creator' });
  });

  it.each(IM_APP_TYPES.map((type) => [type]))('%s calls the vendor as Bytebase does, step for step', (type) => {
    const expected = bytebase.vendors[type];
    const messenger = messengerFor(type)!;
    const app: OpenedImApp = {
      projectId: 1,
      type,
      apiBase: 'https://api.example.com',
      credentials: { botToken: 'xoxb-1', appId: 'cli_1', appSecret: 's', corpId: 'ww1', agentId: '1000002', secret: 's', clientId: 'c', clientSecret: 's', robotCode: 'r', tenantId: '{tenant}' },
      credentialsDigest: 'd',
    };
    const path = (url: string) => decodeURIComponent(new URL(url).pathname);
    const keys = (body: string, form = false) => (form ? [...new URLSearchParams(body).keys()] : Object.keys(JSON.parse(body))).sort();
    if (expected.token) {
      const request = messenger.token!.request(app, 'send');
      expect({ method: request.method ?? 'POST', path: path(request.url) }).toEqual({ method: expected.token.method, path: expected.token.path });
      if (expected.token.keys.length > 0) expect(keys(request.body, type === 'TEAMS')).toEqual(expected.token.keys);
    } else {
      expect(messenger.token).toBeUndefined();
    }
    const lookup = messenger.lookup(app, 'token', type === 'DINGTALK' ? '13800000001' : '{email}');
    expect({ method: lookup.method ?? 'POST', path: path(lookup.url) }).toEqual({ method: expected.lookup.method, path: PATH_OF_LOOKUP[type] ?? expected.lookup.path });
    expect(expected.steps.length === 0 || SKIPPED_STEPS[type] !== undefined).toBe(true);
    // a second look-up call is one of Bytebase's steps (Teams: the installation's chat)
    if (messenger.lookupNext) {
      const next = messenger.lookupNext.request(app, 'token', '{id}', '{installation}');
      expect(expected.steps).toContainEqual({ method: next.method ?? 'POST', path: path(next.url) });
    }
    const send = messenger.render(activity('bb.issue.approval.requested'), type === 'TEAMS' ? '{chat}' : 'U1', app, 'token', { now: new Date(0), brand: 'Bytebase', deliveryId: 'msg_1' });
    expect({ method: send.method ?? 'POST', path: path(send.url) }).toEqual({ method: expected.send.method, path: expected.send.path });
    // Herald's additions: Feishu's uuid (a repeat is not a second DM); Slack posts Block Kit `blocks` where Bytebase posts `attachments`
    const additions: Record<string, string[]> = { FEISHU: ['uuid'], LARK: ['uuid'] };
    const body = keys(send.body).filter((k) => !(additions[type] ?? []).includes(k));
    expect(body).toEqual(type === 'SLACK' ? ['blocks', 'channel', 'text'] : expected.send.keys);
  });
});
