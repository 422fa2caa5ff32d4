/** The REST API's shapes as the console reads them, and one small client. */

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export interface User {
  id: number;
  name: string;
  email: string;
  role: 'ADMIN' | 'MEMBER' | 'SYSTEM';
}

export interface Project {
  id: number;
  name: string;
  key: string;
}

export interface Member {
  userId: number;
  name: string;
  role: 'OWNER' | 'DEVELOPER';
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One webhook type as the server's provider registry describes it (`GET /api/webhook-types`). */
export interface WebhookTypeInfo {
  type: string;
  aliases: string[];
  displayName: string;
  exampleUrl: string;
  /** Empty: any host. */
  hosts: string[];
  /** What its signing secret is; null when it is not signed. */
  signingSecret: string | null;
  /** What a receiver must answer to count as delivered (Custom). */
  answerRule?: string;
  customHeaders: boolean;
}
export const ACTIVITY_TYPES = [
  'bb.issue.create',
  'bb.issue.comment.create',
  'bb.issue.field.update',
  'bb.issue.status.update',
  'bb.pipeline.stage.status.update',
  'bb.pipeline.task.status.update',
  'bb.issue.approval.requested',
  'bb.issue.approved',
  'bb.issue.sent-back',
  'bb.pipeline.failed',
  'bb.pipeline.completed',
] as const;
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERING', 'DELIVERED', 'RETRYING', 'FAILED', 'HELD', 'SKIPPED', 'COALESCED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Webhook {
  id: number;
  projectId: number;
  type: string;
  name: string;
  /** Masked. */
  url: string;
  activityTypes: string[];
  active: boolean;
  state: 'ACTIVE' | 'TEMPORARILY_DISABLED' | 'DISABLED';
  consecutiveFailures: number;
  disabledUntil: string | null;
  lastError: string | null;
  hasSigningSecret: boolean;
  headerNames: string[];
  ordered: boolean;
  /** The CEL filter activities must pass (null: none). */
  filter: string | null;
  coalesce: { windowSeconds: number };
  createdAt: string;
  updatedAt: string;
}

export interface WebhookInput {
  type?: string;
  name?: string;
  url?: string;
  activityTypes?: string[];
  active?: boolean;
  ordered?: boolean;
  signingSecret?: string | null;
  headers?: Record<string, string>;
}

export interface Delivery {
  id: string;
  webhookId: number;
  /** null for a test message. */
  eventPosition: number | null;
  activityType: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  /** The message's title (a coalesced message's summary). */
  title: string | null;
  issueId: number | null;
  /** COALESCED: the delivery whose message carried this one. */
  carriedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Attempt {
  number: number;
  startedAt: string;
  durationMs: number;
  request: { url: string; headers: Record<string, string>; body: string };
  response?: { status: number; headers: Record<string, string>; body: string };
  error?: string;
  verdict: string;
  reason?: string;
}

export interface DeliveryDetail extends Delivery {
  /** A coalesced message: the other deliveries it carries. */
  carries: { id: string; eventPosition: number }[];
  attempts: Attempt[];
}

export interface TestResult {
  delivered: boolean;
  statusCode?: number;
  durationMs: number;
  error?: string;
}

export interface HourCount {
  start: string;
  delivered: number;
  failed: number;
  skipped: number;
  pending: number;
}

export interface Hourly {
  webhookId: number;
  from: string;
  to: string;
  hours: HourCount[];
}

/** A refused request, with the API's problem document when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? `the server answered ${status}`);
    this.name = 'ApiError';
  }

  /** The messages for one field of a form (its first path segment: `headers.X-Key` belongs to `headers`). */
  fieldErrors(): Map<string, string[]> {
    const byField = new Map<string, string[]>();
    for (const { field, message } of this.problem?.errors ?? []) {
      const name = field.split(/[.[]/)[0];
      byField.set(name, [...(byField.get(name) ?? []), message]);
    }
    return byField;
  }
}

const TOKEN_KEY = 'herald.console.token';

/** The token lives in this tab's session storage only: closing the tab signs out. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

type Method = 'GET' | 'POST' | 'PATCH';

export async function call<T>(method: Method, path: string, body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  const text = await response.text();
  if (!response.ok) {
    let problem: Problem | undefined;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = undefined;
    }
    throw new ApiError(response.status, problem);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

const project = (id: number) => `/api/projects/${id}`;
const hook = (projectId: number, webhookId: number) => `${project(projectId)}/webhooks/${webhookId}`;

export const api = {
  me: (token?: string) => call<User>('GET', '/api/users/me', undefined, token),
  webhookTypes: () => call<WebhookTypeInfo[]>('GET', '/api/webhook-types'),
  projects: (cursor?: string) => call<Page<Project>>('GET', `/api/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  project: (id: number) => call<Project>('GET', project(id)),
  members: (id: number) => call<Member[]>('GET', `${project(id)}/members`),
  webhooks: (projectId: number) => call<Webhook[]>('GET', `${project(projectId)}/webhooks`),
  webhook: (projectId: number, webhookId: number) => call<Webhook>('GET', hook(projectId, webhookId)),
  createWebhook: (projectId: number, input: WebhookInput) => call<Webhook>('POST', `${project(projectId)}/webhooks`, input),
  updateWebhook: (projectId: number, webhookId: number, input: WebhookInput) => call<Webhook>('PATCH', hook(projectId, webhookId), input),
  test: (projectId: number, webhookId: number) => call<TestResult>('POST', `${hook(projectId, webhookId)}/test`),
  recover: (projectId: number, webhookId: number, since: string) => call<{ requeued: number }>('POST', `${hook(projectId, webhookId)}/recover`, { since }),
  hourly: (projectId: number, webhookId: number) => call<Hourly>('GET', `${hook(projectId, webhookId)}/deliveries/hourly`),
  deliveries: (projectId: number, webhookId: number, status: DeliveryStatus | '', cursor: string | undefined, limit: number) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    return call<Page<Delivery>>('GET', `${hook(projectId, webhookId)}/deliveries?${query}`);
  },
  delivery: (projectId: number, webhookId: number, deliveryId: string) =>
    call<DeliveryDetail>('GET', `${hook(projectId, webhookId)}/deliveries/${encodeURIComponent(deliveryId)}`),
  redeliver: (projectId: number, webhookId: number, deliveryId: string) =>
    call<{ accepted: boolean }>('POST', `${hook(projectId, webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`),
  decisions: (issueId: number) => call<IssueDecisions>('GET', `/api/issues/${issueId}/webhook-decisions`),
  replay: (projectId: number, webhookId: number, input: { from: string; to?: string; dryRun?: boolean; includeDelivered?: boolean }) =>
    call<ReplayResult>('POST', `${hook(projectId, webhookId)}/replay`, input),
  replayProgress: (projectId: number, webhookId: number, replayId: string) => call<ReplayProgress>('GET', `${hook(projectId, webhookId)}/replays/${encodeURIComponent(replayId)}`),
};

/** GET /api/issues/{id}/webhook-decisions. */
export interface IssueDecisions {
  issueId: number;
  projectId: number;
  webhooks: { id: number; name: string; type: string; deleted: boolean }[];
  reasons: Record<string, string>;
  items: {
    position: number;
    eventType: string;
    occurredAt: string;
    activityType: string | null;
    title: string | null;
    decisions: { webhookId: number; decision: string; deliveryId?: string; status?: DeliveryStatus; into?: string; filter?: string; error?: string }[];
  }[];
}

export interface ReplayResult {
  replayId?: string;
  count: number;
  items: { eventId: string; position: number; activityType: string; title: string; issueId: number | null; createdTs: number; alreadyDelivered: boolean }[];
}

export interface ReplayProgress {
  id: string;
  count: number;
  statuses: Record<DeliveryStatus, number>;
  done: boolean;
}
