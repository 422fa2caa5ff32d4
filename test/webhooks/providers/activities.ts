import type { Activity, Mention, MetaLine, Person } from '../../../src/webhooks/activity.js';
import type { ProviderResponse, RenderContext, WebhookTarget } from '../../../src/webhooks/providers/provider.js';
import { PROVIDERS, type WebhookType } from '../../../src/webhooks/providers/registry.js';

/** Fixed inputs for the provider adapter tests. */

export const NOW = new Date('2026-05-01T12:00:00.000Z');
export const NOW_MS = NOW.getTime();
export const NOW_S = Math.floor(NOW_MS / 1000);

export const ctx: RenderContext = { now: NOW, brand: 'Bytebase', deliveryId: 'msg_2VwXoDzgJ9Rk4b1tQ8e', version: '0.1.0' };

/** The URLs the golden files were made with; a provider without one here uses its registry example. */
const URLS: Partial<Record<WebhookType, string>> = {
  SLACK: 'https://hooks.slack.com/services/T000/B000/XXXX',
  DISCORD: 'https://discord.com/api/webhooks/1234/token-abc',
  TEAMS: 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456',
  DINGTALK: 'https://oapi.dingtalk.com/robot/send?access_token=tok123',
  FEISHU: 'https://open.feishu.cn/open-apis/bot/v2/hook/hook-id',
  LARK: 'https://open.larksuite.com/open-apis/bot/v2/hook/hook-id',
  WECOM: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1',
  CUSTOM: 'https://receiver.example.com/herald',
};
export const TEAMS_WORKFLOWS_URL = 'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s';

export function hook(type: WebhookType, overrides: Partial<WebhookTarget> = {}): WebhookTarget {
  return { id: 11, type, name: 'Team chat', url: URLS[type] ?? PROVIDERS[type].exampleUrl, signingSecrets: [], headers: {}, ...overrides };
}

export const alice: Person = { id: 2, name: 'Alice Chen', email: 'alice@example.com' };
export const bot: Person = { id: 1, name: 'Bytebase', email: 'support@bytebase.com' };

const issue = {
  id: 42,
  name: 'Add index: users',
  status: 'OPEN',
  type: 'bb.issue.database.schema.update',
  description: 'Adds an index on users(email).',
  creator: alice,
};
const link = 'https://herald.example.com/issue/add-index-users-42';

function issueMeta(): MetaLine[] {
  return [
    { name: 'Project Title', value: 'Demo' },
    { name: 'Project ID', value: '7' },
    { name: 'Issue', value: 'Add index: users' },
    { name: 'Issue Creator', value: 'Alice Chen (alice@example.com)' },
    { name: 'Issue Description', value: 'Adds an index on users(email).' },
  ];
}

function base(overrides: Partial<Activity>): Activity {
  return {
    type: 'bb.issue.create',
    level: 'INFO',
    title: 'Issue created - Add index: users',
    description: '',
    link,
    actor: alice,
    createdTs: 1777627800,
    project: { id: 7, name: 'Demo' },
    issue,
    meta: issueMeta(),
    ...overrides,
  };
}

/** One representative activity per activity type; together they use all four levels. */
export const ACTIVITIES = {
  /** bb.issue.create, INFO */
  issueCreated: base({ description: 'Adds an index on users(email).' }),
  /** bb.issue.comment.create, INFO: markup characters and several lines */
  commentCreated: base({
    type: 'bb.issue.comment.create',
    title: 'Comment created - Add index: users',
    description: 'LGTM <@here> & ship it\nsecond line',
    link: `${link}#activity9`,
    actor: { id: 3, name: 'Bob', email: 'bob@example.com' },
  }),
  /** bb.issue.field.update, INFO, no description */
  fieldUpdated: base({ type: 'bb.issue.field.update', title: 'Reassigned issue from Bob to Carol - Add index: users' }),
  /** bb.issue.status.update, SUCCESS */
  issueResolved: base({ type: 'bb.issue.status.update', level: 'SUCCESS', title: 'Issue resolved - Add index: users', issue: { ...issue, status: 'DONE' } }),
  /** bb.pipeline.stage.status.update, ERROR (a task failed), actor the System Bot */
  stageEnded: base({
    type: 'bb.pipeline.stage.status.update',
    level: 'ERROR',
    title: 'Stage ends - prod',
    link: `${link}?stage=5`,
    actor: bot,
    meta: [...issueMeta(), { name: 'Stage', value: 'prod' }, { name: 'Status', value: 'FAILED' }, { name: 'Result Detail', value: 'db-prod-2: duplicate key' }],
  }),
  /** bb.pipeline.task.status.update, WARN */
  taskCanceled: base({
    type: 'bb.pipeline.task.status.update',
    level: 'WARN',
    title: 'Task canceled - db-prod-1',
    description: 'Maintenance window closed',
    meta: [...issueMeta(), { name: 'Task', value: 'db-prod-1' }, { name: 'Status', value: 'CANCELED' }],
  }),
  /** The webhook test message: issue absent. */
  testMessage: base({
    title: 'Test webhook "Team chat"',
    description: 'This is a test',
    link: 'https://herald.example.com/project/demo-7',
    actor: bot,
    issue: null,
    meta: [
      { name: 'Project Title', value: 'Demo' },
      { name: 'Project ID', value: '7' },
    ],
  }),
} satisfies Record<string, Activity>;

export type CaseName = keyof typeof ACTIVITIES;
export const CASES = Object.keys(ACTIVITIES) as CaseName[];

/** People to mention, with the handles they have set (Carol none: she is only named). */
export const mentioned = {
  alice: { ...alice, phone: '+8613800000002', slackMemberId: 'U0ALICE', wecomUserId: 'alice.chen' },
  bob: { id: 3, name: 'Bob', email: 'bob@example.com', phone: '+8613900000003', slackMemberId: 'U0BOB', wecomUserId: 'bob' },
  carol: { id: 4, name: 'Carol', email: 'carol@example.com', phone: null, slackMemberId: null, wecomUserId: null },
} satisfies Record<string, Mention>;

/** One activity per approval and rollout type (Bytebase's current events), the approval ones with mentions. */
export const APPROVAL_ACTIVITIES = {
  /** bb.issue.approval.requested, WARN: the step's approvers mentioned */
  approvalRequested: base({
    type: 'bb.issue.approval.requested',
    level: 'WARN',
    title: 'Approval required',
    meta: [...issueMeta(), { name: 'Approval Step', value: '1 of 2' }, { name: 'Approvers', value: 'Bob, Carol' }],
    mentions: [mentioned.bob, mentioned.carol],
  }),
  /** bb.issue.approved, SUCCESS: the creator mentioned */
  issueApproved: base({ type: 'bb.issue.approved', level: 'SUCCESS', title: 'Issue approved', description: 'Bob approved the issue', actor: { id: 3, name: 'Bob', email: 'bob@example.com' }, mentions: [mentioned.alice] }),
  /** bb.issue.sent-back, WARN: the creator mentioned; the reason is user text */
  issueSentBack: base({
    type: 'bb.issue.sent-back',
    level: 'WARN',
    title: 'Issue sent back',
    description: 'Bob sent back the issue: needs a rollback plan <@here>',
    actor: { id: 3, name: 'Bob', email: 'bob@example.com' },
    mentions: [mentioned.alice],
  }),
  /** bb.pipeline.failed, ERROR, the System Bot */
  rolloutFailed: base({
    type: 'bb.pipeline.failed',
    level: 'ERROR',
    title: 'Rollout failed',
    description: 'Rollout failed',
    link: `${link}?stage=5`,
    actor: bot,
    meta: [...issueMeta(), { name: 'Environment', value: 'prod' }, { name: 'Task', value: 'db-prod-1' }],
  }),
  /** bb.pipeline.completed, SUCCESS, the System Bot */
  rolloutCompleted: base({
    type: 'bb.pipeline.completed',
    level: 'SUCCESS',
    title: 'Rollout completed',
    description: 'Rollout completed successfully',
    actor: bot,
    meta: [...issueMeta(), { name: 'Environment', value: 'prod' }],
  }),
} satisfies Record<string, Activity>;

export type ApprovalCaseName = keyof typeof APPROVAL_ACTIVITIES;
export const APPROVAL_CASES = Object.keys(APPROVAL_ACTIVITIES) as ApprovalCaseName[];

/** Every representative activity: the seed's (compared with Bytebase 1.12) and the approval and rollout ones. */
export const EVERY_ACTIVITY: Record<CaseName | ApprovalCaseName, Activity> = { ...ACTIVITIES, ...APPROVAL_ACTIVITIES };
export const EVERY_CASE = Object.keys(EVERY_ACTIVITY) as (CaseName | ApprovalCaseName)[];

/** An activity with every text huge: `description` and each meta value are `filler`. */
export function huge(filler: string, overrides: Partial<Activity> = {}): Activity {
  return base({
    type: 'bb.pipeline.task.status.update',
    level: 'ERROR',
    title: 'Task failed - db-prod-1',
    description: filler,
    meta: [
      ...issueMeta().map((m) => ({ ...m, value: m.name === 'Issue Description' ? filler : m.value })),
      { name: 'Task', value: 'db-prod-1' },
      { name: 'Status', value: 'FAILED' },
      { name: 'Result Detail', value: filler },
    ],
    ...overrides,
  });
}

export function response(status: number, body = '', headers: Record<string, string> = {}): ProviderResponse {
  return { status, body, headers };
}

/** Matches a lone (unpaired) surrogate. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
export const at = (ms: number) => new Date(NOW_MS + ms);

/** What users may type: every chat service's "notify everyone" markup. */
export const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!subteam^S123>',
  '<@U024BE7LH>',
  '@everyone',
  '@here',
  '<@&123456>',
  '<at>all</at>',
  '<at id=all></at>',
  '<at user_id="all"></at>',
  '<AT id="all">',
  '<@all>',
  '<users/all>',
  '@all',
].join(' ');
