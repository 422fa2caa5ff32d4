import { Writable } from 'node:stream';
import { ManualClock } from '../../src/shared/clock.js';
import { dmWalk } from './dm-walk.js';
import { LOCAL_WEBHOOK_ENV, Receiver, type Reply } from './receiver.js';
import { useTestApp } from './test-app.js';
import type { ApiAnswer, ImEmulator } from './vendors/im-emulator.js';

/** A vendor whose IM app works with an access token, as one walk tests it. */
export interface TokenVendor<A extends ImEmulator & { dms: unknown[]; expireTokens(): void }> {
  type: string;
  api: A;
  credentials: Record<string, string>;
  /** Clear values that must never be shown, stored or logged (the app's secret). */
  secrets: string[];
  /** The vendor's id of each person the API knows, by walk name (Dave is unknown to it). */
  known: { alice: string; bob: string; carol: string };
  /** The id each DM went to, in the order sent. */
  recipients(api: A): string[];
  channelPath: string;
  channelReply: Reply;
  tokenRoute: string;
  sendRoute: string;
  /** The vendor's rate-limit answer to a message. */
  rateLimited: ApiAnswer;
  /** Handles the people set (WeCom userids, DingTalk phones…); default none. */
  handles?: Partial<Record<'alice' | 'bob' | 'carol' | 'dave', Record<string, string>>>;
  /** Erin, with nothing the vendor finds people by, is asked too (`dm-no-handle`: the channel mentions her). */
  withoutHandle?: boolean;
  /** The vendor's answer to a message whose token it does not take (Teams' 401): refused again with a new token, the person is mentioned in the channel. */
  refused?: ApiAnswer;
  /** Tokens one first batch fetches (Teams: Graph's and the Bot Framework's); default 1. */
  tokensPerApp?: number;
}

/**
 * One vendor's direct messages end to end on the engine under test, against its emulated API:
 * each person asked is told once (one token for all, fetched once); Dave, whom the vendor does
 * not know, is mentioned in the channel; then the hostile cases, one per activity: the token
 * endpoint failing (retried), every token expiring before a batch (fetched again once, each
 * DM sent once), and a rate limit on the message (retried after it). The app's secret and its
 * tokens are never in an answer or a log line.
 */
export function describeTokenVendor<A extends ImEmulator & { dms: unknown[]; expireTokens(): void }>(vendor: TokenVendor<A>): void {
  describe(`${vendor.type} direct messages`, () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const logs: string[] = [];
    const logStream = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
    const t = useTestApp({ clock, env: { ...LOCAL_WEBHOOK_ENV, LOG_LEVEL: 'info' }, logStream });
    const walk = dmWalk(t, clock);
    const channel = new Receiver();
    const api = vendor.api;
    const people = {
      alice: { name: 'Alice', email: 'alice@example.com', ...vendor.handles?.alice },
      bob: { name: 'Bob', email: 'bob@example.com', ...vendor.handles?.bob },
      carol: { name: 'Carol', email: 'carol@example.com', ...vendor.handles?.carol },
      dave: { name: 'Dave', email: 'dave@elsewhere.example', ...vendor.handles?.dave },
      ...(vendor.withoutHandle ? { erin: { name: 'Erin', email: 'erin@example.com' } } : {}),
    };
    const sentTo = (who: 'alice' | 'bob' | 'carol') => vendor.recipients(api).filter((id) => id === vendor.known[who]).length;
    const tokenFetches = () => api.of(vendor.tokenRoute).length;

    beforeAll(async () => {
      await api.start();
      await channel.start();
      channel.answer(vendor.channelReply);
    });
    afterAll(async () => {
      await api.stop();
      await channel.stop();
    });

    it('tells each approver once, with one token, and mentions in the channel the one it cannot find', async () => {
      await walk.setUp(people, ['bob', 'carol', 'dave', ...(vendor.withoutHandle ? ['erin'] : [])], { type: vendor.type, channelUrl: channel.url(vendor.channelPath) }, { credentials: vendor.credentials, apiBase: api.base });
      await walk.createIssue('alice');
      await walk.pump();
      expect([sentTo('bob'), sentTo('carol'), sentTo('alice')]).toEqual([1, 1, 0]);
      expect(tokenFetches()).toBe(vendor.tokensPerApp ?? 1);
      expect(channel.received).toHaveLength(2); // its own message, and Dave's fall-back
      const dms = (await walk.decisions()).items.find((i: any) => i.activityType === 'bb.issue.approval.requested').decisions[0].directMessages;
      expect(Object.fromEntries(dms.map((d: any) => [d.userId, d.decision]))).toEqual({
        [walk.ids.bob]: 'dm-sent',
        [walk.ids.carol]: 'dm-sent',
        [walk.ids.dave]: 'dm-fell-back',
        ...(vendor.withoutHandle ? { [walk.ids.erin]: 'dm-no-handle' } : {}),
      });
    });

    it('tries again when the token endpoint fails, and tells the creator once that the issue was sent back', async () => {
      api.expireTokens();
      api.answerNext(vendor.tokenRoute, { status: 503, body: { error: 'busy' } });
      await walk.call('bob', `/api/issues/${walk.ids.issue}/approval/send-back`, { reason: 'needs a plan' });
      await walk.pump();
      expect(sentTo('alice')).toBe(1);
      const alices = (await walk.deliveries()).filter((d) => d.recipientId === walk.ids.alice);
      expect(alices).toEqual([expect.objectContaining({ status: 'DELIVERED', attemptCount: 2, activityType: 'bb.issue.sent-back' })]);
    });

    it('fetches a new token once when every token expired before a batch, and sends each DM once', async () => {
      api.expireTokens();
      const before = tokenFetches();
      await walk.call('alice', `/api/issues/${walk.ids.issue}/approval/request`);
      await walk.pump();
      expect([sentTo('bob'), sentTo('carol')]).toEqual([2, 2]);
      expect(tokenFetches() - before).toBe(1);
    });

    it('waits out the vendor’s rate limit, and tells the creator once that the issue was approved and once that its rollout failed', async () => {
      api.answerNext(vendor.sendRoute, vendor.rateLimited);
      await walk.call('carol', `/api/issues/${walk.ids.issue}/approval/approve`);
      await walk.pump();
      expect(sentTo('alice')).toBe(2);
      for (const status of ['PENDING', 'RUNNING']) await walk.call('alice', `/api/issues/${walk.ids.issue}/tasks/${walk.ids.task}/status`, { status });
      await walk.call('alice', `/api/issues/${walk.ids.issue}/tasks/${walk.ids.task}/status`, { status: 'FAILED', comment: 'lock timeout' });
      await walk.pump();
      expect(sentTo('alice')).toBe(3);
      const approved = (await walk.deliveries()).find((d) => d.recipientId === walk.ids.alice && d.activityType === 'bb.issue.approved');
      expect(approved).toMatchObject({ status: 'DELIVERED', attemptCount: 2 });
    });

    it('sends the DM again on a redelivery from the console (a vendor’s deduplication key changes with it)', async () => {
      const approved = (await walk.deliveries()).find((d) => d.recipientId === walk.ids.alice && d.activityType === 'bb.issue.approved');
      const before = sentTo('alice');
      await t.http.post(`/api/projects/${walk.ids.project}/webhooks/${walk.ids.webhook}/deliveries/${approved.id}/redeliver`).set(t.auth).expect(202);
      await walk.pump();
      expect(sentTo('alice')).toBe(before + 1);
    });

    if (vendor.refused) {
      it('mentions the creator in the channel when the vendor refuses a token fetched just now too', async () => {
        await walk.createIssue('alice');
        await walk.pump();
        api.answerNext(vendor.sendRoute, vendor.refused!, vendor.refused!);
        const [posts, fetches] = [channel.received.length, tokenFetches()];
        await walk.call('bob', `/api/issues/${walk.ids.issue}/approval/send-back`, { reason: 'needs a plan' });
        await walk.pump();
        expect(sentTo('alice')).toBe(4);
        expect(tokenFetches() - fetches).toBe(1);
        // the sending back's channel message, and the creator's fall-back
        expect(channel.received.length - posts).toBe(2);
        const sentBack = (await walk.deliveries()).filter((d) => d.recipientId === walk.ids.alice && d.activityType === 'bb.issue.sent-back');
        expect(sentBack).toContainEqual(expect.objectContaining({ status: 'DELIVERED', attemptCount: 1, lastError: expect.stringContaining('token still refused after a new one') }));
      });
    }

    it('never shows or logs the app’s secret or its tokens', async () => {
      const deliveries = await walk.deliveries();
      const details = await Promise.all(deliveries.map((d) => t.http.get(`/api/projects/${walk.ids.project}/webhooks/${walk.ids.webhook}/deliveries/${d.id}`).set(t.auth).then((r) => r.text)));
      const shown = JSON.stringify(details) + logs.join('');
      expect(logs.join('')).toContain('IM app access token fetched');
      for (const secret of vendor.secrets) expect(shown.includes(secret)).toBe(false);
      for (const token of (api as unknown as { tokens: Map<string, boolean> }).tokens.keys()) expect(shown.includes(token)).toBe(false);
    });
  });
}
