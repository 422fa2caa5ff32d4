import type { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import type { TestApp } from './test-app.js';

/** A person of a direct-message walk, with the handles they set. */
export interface Person {
  name: string;
  email: string;
  phone?: string;
  slackMemberId?: string;
  wecomUserId?: string;
}

/**
 * The set-up every vendor's direct-message walk shares: people, a project whose approval asks
 * `approvers` in its first step, a webhook of `type` posting to `channelUrl` with direct
 * messages on, and the project's IM app of the type. `pump` schedules and sends everything due.
 */
export function dmWalk(t: TestApp, clock: ManualClock) {
  const ids: Record<string, number> = {};
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ Authorization: who === 'admin' ? t.auth.Authorization : `Bearer ${tokens[who]}` });
  const call = (who: string, path: string, body: object = {}, expected = 200) => t.http.post(path).set(as(who)).send(body).expect(expected).then((r) => r.body);

  return {
    ids,
    as,
    call,
    async setUp(people: Record<string, Person>, approvers: string[], webhook: { type: string; channelUrl: string }, app: { credentials: Record<string, string>; apiBase: string }) {
      for (const [who, person] of Object.entries(people)) {
        const user = await call('admin', '/api/users', person, 201);
        tokens[who] = user.token;
        ids[who] = user.id;
        await t.http.put(`/api/projects/${ids.project ?? (ids.project = (await call('admin', '/api/projects', { name: 'Payments' }, 201)).id)}/members/${user.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
      }
      await t.http.patch(`/api/projects/${ids.project}`).set(t.auth).send({ approvalSteps: [{ approvers: approvers.map((who) => ids[who]) }] }).expect(200);
      const hook = await call(
        'admin',
        `/api/projects/${ids.project}/webhooks`,
        { type: webhook.type, name: 'team', url: webhook.channelUrl, activityTypes: ['bb.issue.approval.requested', 'bb.issue.approved', 'bb.issue.sent-back', 'bb.pipeline.failed'], coalesce: { windowSeconds: 0 }, directMessage: true },
        201,
      );
      ids.webhook = hook.id;
      await t.http.put(`/api/projects/${ids.project}/im-apps/${webhook.type}`).set(t.auth).send(app).expect(200);
    },
    async createIssue(creator: string) {
      const issue = await call(creator, `/api/projects/${ids.project}/issues`, { name: 'Add index: users', type: 'bb.issue.database.schema.update', pipeline: { stages: [{ name: 'prod', tasks: [{ name: 'db-prod' }] }] } }, 201);
      ids.issue = issue.id;
      ids.task = issue.pipeline.stages[0].tasks[0].id;
      return issue;
    },
    /** Schedules and sends every due delivery, moving the clock past any wait (a retry, a pace, a throttle). */
    async pump(rounds = 10) {
      for (let round = 0; round < rounds; round++) {
        await t.app.get(WebhookSubscription).catchUp();
        const attempts = await t.app.get(DeliveryDispatcher).runOnce();
        clock.advance(61_000);
        if (attempts === 0 && round > 0) return;
      }
    },
    async deliveries() {
      return (await t.http.get(`/api/projects/${ids.project}/webhooks/${ids.webhook}/deliveries?limit=200`).set(t.auth).expect(200)).body.items as any[];
    },
    async decisions() {
      return (await t.http.get(`/api/issues/${ids.issue}/webhook-decisions`).set(t.auth).expect(200)).body;
    },
  };
}
