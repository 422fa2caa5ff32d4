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
}

/** POST …/webhooks/{webhookId}/test: one synchronous attempt. */
export interface TestResult {
  delivered: boolean;
  /** The endpoint's HTTP status, when it answered. */
  statusCode?: number;
  durationMs: number;
  error?: string;
}
