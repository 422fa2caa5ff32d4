import { coalesceView } from '../coalesce/window.js';
import type { WebhookConfig } from './webhook.decider.js';

export interface WebhookView {
  id: number;
  projectId: number;
  type: string;
  name: string;
  url: string;
  activityTypes: string[];
  active: boolean;
  state: string;
  consecutiveFailures: number;
  disabledUntil: string | null;
  lastError: string | null;
  hasSigningSecret: boolean;
  headerNames: string[];
  ordered: boolean;
  filter: string | null;
  coalesce: { windowSeconds: number };
  createdAt: string;
  updatedAt: string;
}

/** The API's view of a webhook: URL masked, secrets and header values never shown. */
export function toWebhookView(hook: WebhookConfig, consecutiveFailures: number): WebhookView {
  return {
    id: hook.id,
    projectId: hook.projectId,
    type: hook.type,
    name: hook.name,
    url: hook.urlMasked,
    activityTypes: hook.activityTypes,
    active: hook.active,
    state: hook.health.state,
    consecutiveFailures,
    disabledUntil: hook.health.disabledUntil,
    lastError: hook.health.lastError,
    hasSigningSecret: hook.signingSecret !== null,
    headerNames: Object.keys(hook.headers),
    ordered: hook.ordered,
    filter: hook.filter ?? null,
    coalesce: coalesceView(hook),
    createdAt: hook.createdAt,
    updatedAt: hook.updatedAt,
  };
}
