/** What a webhook message is about: one activity per webhook-relevant domain event. */
export const ACTIVITY_TYPES = [
  // the seed's
  'bb.issue.create',
  'bb.issue.comment.create',
  'bb.issue.field.update',
  'bb.issue.status.update',
  'bb.pipeline.stage.status.update',
  'bb.pipeline.task.status.update',
  // approval and rollout outcomes (Bytebase 3.14 and later)
  'bb.issue.approval.requested',
  'bb.issue.approved',
  'bb.issue.sent-back',
  'bb.pipeline.failed',
  'bb.pipeline.completed',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** A webhook's health: TEMPORARILY_DISABLED after repeated failures (until disabledUntil), DISABLED for good. */
export const WEBHOOK_STATES = ['ACTIVE', 'TEMPORARILY_DISABLED', 'DISABLED'] as const;
export type WebhookHealthState = (typeof WEBHOOK_STATES)[number];

/**
 * Kinds of webhook URL their service has retired: Teams' Office 365 connectors (`*.webhook.office.com` and the older
 * `outlook.office.com` ones, retired in 2026) and Workflows URLs on `*.logic.azure.com` (stopped on 2025-11-30).
 */
export const RETIRED_URL_KINDS = ['TEAMS_O365_CONNECTOR', 'TEAMS_WORKFLOWS_LOGIC_APPS'] as const;
export type RetiredUrlKind = (typeof RETIRED_URL_KINDS)[number];

/** A webhook URL of a retired kind: still accepted (old tenants may have one), and said so. */
export interface RetiredUrlView {
  kind: RetiredUrlKind;
  /** For people: what was retired, and what to do. */
  message: string;
  /** The kind of URL to use instead, e.g. `https://*.environment.api.powerplatform.com/…`. */
  useInstead: string;
}

/** The API's view of a webhook: URL masked, secrets and header values never shown. */
export interface WebhookView {
  id: number;
  projectId: number;
  /** A webhook type of the provider registry, in its short form (`SLACK`). */
  type: string;
  name: string;
  /** Masked: scheme, host and the provider's fixed path prefix. */
  url: string;
  activityTypes: ActivityType[];
  /** Set by its managers; false pauses deliveries. */
  active: boolean;
  state: WebhookHealthState;
  consecutiveFailures: number;
  disabledUntil: string | null;
  lastError: string | null;
  hasSigningSecret: boolean;
  headerNames: string[];
  ordered: boolean;
  /** The CEL filter activities must pass (null: none). */
  filter: string | null;
  /** The coalescing window in effect (0: off). */
  coalesce: { windowSeconds: number };
  /** Set when the URL is of a kind its service has retired (null: it is not). */
  retiredUrl: RetiredUrlView | null;
  /** The people an activity asks to act also get a direct message, from the project's IM app of this type. */
  directMessage: boolean;
  createdAt: string;
  updatedAt: string;
}

/** POST /api/projects/{id}/webhooks: the answer when `backfillFrom` was given (the replay runs in the background: follow it by its id). */
export interface WebhookCreatedView extends WebhookView {
  backfill?: { replayId: string };
}

/**
 * POST /api/projects/{id}/webhooks. Activity types and webhook types are also accepted
 * under Bytebase's names (strings here); answers use Herald's.
 */
export interface CreateWebhookInput {
  type: string;
  name: string;
  url: string;
  activityTypes: string[];
  active?: boolean;
  /** null or absent: none. */
  signingSecret?: string | null;
  headers?: Record<string, string>;
  ordered?: boolean;
  filter?: string | null;
  coalesce?: { windowSeconds: number };
  /** Slack, Feishu, Lark, WeCom, DingTalk, Teams: also DM the people an activity asks to act (the project's IM app of the type). */
  directMessage?: boolean;
  /** Send what the log holds since then at once (an ISO time or `position:<n>`). */
  backfillFrom?: string;
}

/** PATCH /api/projects/{id}/webhooks/{webhookId}: what is absent stays; null removes the secret or the filter. */
export type UpdateWebhookInput = Partial<Omit<CreateWebhookInput, 'type' | 'backfillFrom'>>;

/** One webhook type as the server's provider registry describes it (`GET /api/webhook-types`). */
export interface WebhookTypeInfo {
  /** The short form the API returns. */
  type: string;
  /** Other spellings accepted on input (Bytebase's `bb.plugin.webhook.<type>`). */
  aliases: string[];
  displayName: string;
  exampleUrl: string;
  /** Hosts accepted for its URLs (`*.` any subdomain), the operator's included; empty: any host. */
  hosts: string[];
  /** What its signing secret is; null when it is not signed. */
  signingSecret: string | null;
  /** What a receiver must answer to count as delivered (Custom). */
  answerRule?: string;
  customHeaders: boolean;
  /** Its coalescing window when a webhook sets none (0: off); null when it never coalesces (one activity per body). */
  defaultCoalesceSeconds: number | null;
}

/** POST …/webhooks/{webhookId}/test: one synchronous attempt. */
export interface TestResult {
  delivered: boolean;
  /** The endpoint's HTTP status, when it answered. */
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/** POST /api/projects/{id}/webhooks/filter-trial: a filter tried before it is saved. */
export interface FilterTrialInput {
  filter: string;
  /** How many of the project's last activities to try it on (default 20, at most 50). */
  limit?: number;
}

/** One of the project's last activities, and what the filter made of it. */
export interface FilterTrialItem {
  position: number;
  occurredAt: string;
  issueId: number;
  activityType: string;
  title: string;
  matched: boolean;
  /** Why the filter failed on it (it then lets nothing through), or that it exceeded its budget. */
  error?: string;
  /** The steps the evaluation used, of `budget`. */
  steps: number;
}

export interface FilterTrialView {
  /** The steps any one evaluation may use. */
  budget: number;
  /** The most one evaluation of this filter could use, on the largest activity. */
  worstCaseSteps: number;
  /** Newest first. */
  items: FilterTrialItem[];
}
