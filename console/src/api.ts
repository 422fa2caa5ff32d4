/**
 * The REST API as the console reads it, and one small client. Its shapes and lists are the
 * server's own (src/contract/, pure modules the server's views and DTOs are typed by):
 * tsconfig.console.json joins that folder to this one (rootDirs), so `./webhooks.js` here is
 * src/contract/webhooks.ts, and the browser loads both from /console/assets/. The rest of the
 * console imports them from this file.
 */
import type { DecisionKind, IssueDecisionsView } from './decisions.js';
import { DELIVERY_STATUSES, STATS_OUTCOMES, type AttemptView, type DeliveryDetailView, type DeliveryStatus, type DeliveryView, type HourCount, type HourlyDeliveries, type RecoverResult, type RedeliverResult, type StatsOutcome } from './deliveries.js';
import { IM_APP_TYPES, type DmDecisionView } from './im-apps.js';
import type { Page } from './page.js';
import type { Problem } from './problem.js';
import type { MemberView, ProjectRole, ProjectView } from './projects.js';
import type { ReplayPreview, ReplayProgress, ReplayRequest } from './replays.js';
import type { UserRole, UserView } from './users.js';
import { ACTIVITY_TYPES, type CreateWebhookInput, type FilterTrialItem, type FilterTrialView, type TestResult, type UpdateWebhookInput, type WebhookTypeInfo, type WebhookView } from './webhooks.js';

export { ACTIVITY_TYPES, DELIVERY_STATUSES, IM_APP_TYPES, STATS_OUTCOMES };
export type {
  AttemptView,
  CreateWebhookInput,
  DecisionKind,
  DmDecisionView,
  DeliveryDetailView,
  DeliveryStatus,
  DeliveryView,
  FilterTrialItem,
  FilterTrialView,
  HourCount,
  HourlyDeliveries,
  IssueDecisionsView,
  Page,
  ProjectRole,
  ProjectView,
  ReplayPreview,
  ReplayProgress,
  StatsOutcome,
  UserRole,
  UserView,
  WebhookTypeInfo,
  WebhookView,
};

/** What the webhook form sends: every field for a new webhook, only the changed ones for an edit. */
export type WebhookInput = Partial<CreateWebhookInput>;

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
  me: (token?: string) => call<UserView>('GET', '/api/users/me', undefined, token),
  webhookTypes: () => call<WebhookTypeInfo[]>('GET', '/api/webhook-types'),
  projects: (cursor?: string) => call<Page<ProjectView>>('GET', `/api/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  project: (id: number) => call<ProjectView>('GET', project(id)),
  members: (id: number) => call<MemberView[]>('GET', `${project(id)}/members`),
  webhooks: (projectId: number) => call<WebhookView[]>('GET', `${project(projectId)}/webhooks`),
  webhook: (projectId: number, webhookId: number) => call<WebhookView>('GET', hook(projectId, webhookId)),
  createWebhook: (projectId: number, input: CreateWebhookInput) => call<WebhookView>('POST', `${project(projectId)}/webhooks`, input),
  updateWebhook: (projectId: number, webhookId: number, input: UpdateWebhookInput) => call<WebhookView>('PATCH', hook(projectId, webhookId), input),
  test: (projectId: number, webhookId: number) => call<TestResult>('POST', `${hook(projectId, webhookId)}/test`),
  tryFilter: (projectId: number, filter: string) => call<FilterTrialView>('POST', `${project(projectId)}/webhooks/filter-trial`, { filter }),
  recover: (projectId: number, webhookId: number, since: string) => call<RecoverResult>('POST', `${hook(projectId, webhookId)}/recover`, { since }),
  hourly: (projectId: number, webhookId: number) => call<HourlyDeliveries>('GET', `${hook(projectId, webhookId)}/deliveries/hourly`),
  deliveries: (projectId: number, webhookId: number, status: DeliveryStatus | '', cursor: string | undefined, limit: number) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    return call<Page<DeliveryView>>('GET', `${hook(projectId, webhookId)}/deliveries?${query}`);
  },
  delivery: (projectId: number, webhookId: number, deliveryId: string) =>
    call<DeliveryDetailView>('GET', `${hook(projectId, webhookId)}/deliveries/${encodeURIComponent(deliveryId)}`),
  redeliver: (projectId: number, webhookId: number, deliveryId: string) =>
    call<RedeliverResult>('POST', `${hook(projectId, webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`),
  /** Every event's decisions: the route pages by events, the issue page shows them all. */
  decisions: async (issueId: number): Promise<IssueDecisionsView> => {
    const first = await call<IssueDecisionsView>('GET', `/api/issues/${issueId}/webhook-decisions?limit=200`);
    const items = [...first.items];
    for (let cursor = first.nextCursor; cursor; ) {
      const page = await call<IssueDecisionsView>('GET', `/api/issues/${issueId}/webhook-decisions?limit=200&cursor=${encodeURIComponent(cursor)}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    }
    return { ...first, items, nextCursor: null };
  },
  /** A dry run: what a replay would send (at most a bounded number of the range's events read per request). */
  previewReplay: (projectId: number, webhookId: number, input: Omit<ReplayRequest, 'dryRun'>) => call<ReplayPreview>('POST', `${hook(projectId, webhookId)}/replay`, { ...input, dryRun: true }),
  /** Starts a replay: it reads the range in the background; its progress as it starts. */
  replay: (projectId: number, webhookId: number, input: Omit<ReplayRequest, 'dryRun'>) => call<ReplayProgress>('POST', `${hook(projectId, webhookId)}/replay`, input),
  replayProgress: (projectId: number, webhookId: number, replayId: string) => call<ReplayProgress>('GET', `${hook(projectId, webhookId)}/replays/${encodeURIComponent(replayId)}`),
};
