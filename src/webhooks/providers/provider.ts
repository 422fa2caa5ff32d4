import type { Activity } from '../activity.js';

/** Webhook types, in their short form (the API also accepts `bb.plugin.webhook.<lower>`). */
export const WEBHOOK_TYPES = ['SLACK', 'DISCORD', 'TEAMS', 'DINGTALK', 'FEISHU', 'LARK', 'WECOM', 'CUSTOM'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** What an adapter needs to know of the webhook it renders for. Secrets are in clear here, and only here. */
export interface WebhookTarget {
  id: number;
  type: WebhookType;
  name: string;
  url: string;
  /** Valid signing secrets, newest first (two during a rotation). Empty when none. */
  signingSecrets: string[];
  /** Operator-configured extra headers (Custom only). */
  headers: Record<string, string>;
}

export interface RenderContext {
  /** The time of this attempt (signatures and timestamps use it). */
  now: Date;
  brand: string;
  /** The delivery's stable id: the same on every attempt. */
  deliveryId: string;
  /** Herald's version, for the User-Agent. */
  version: string;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface ProviderResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export type Verdict =
  | { kind: 'delivered' }
  /** Transient: try again, not before `notBefore` when the provider said when. */
  | { kind: 'retry'; reason: string; notBefore?: Date }
  /** Permanent: stop. `disable` when the endpoint is gone for good (410, archived channel). */
  | { kind: 'failed'; reason: string; disable?: boolean };

/** A client-side rate limit: at most `count` requests per `perMs` milliseconds. */
export interface RateLimit {
  count: number;
  perMs: number;
}

/**
 * One chat service or endpoint kind. Adding a provider is one file implementing this
 * and one line in the registry.
 */
export interface ProviderAdapter {
  readonly type: WebhookType;
  /** Hosts accepted for URLs of this type; `*.` matches any subdomain. Empty means any host. */
  readonly hosts: readonly string[];
  /** Per-webhook pace limits; all must hold. */
  readonly pace: readonly RateLimit[];
  /** Extra URL rules beyond the host (e.g. Discord's /api/webhooks/ path): a message when refused. */
  checkUrl?(url: URL): string | undefined;
  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest;
  judge(response: ProviderResponse, ctx: { now: Date }): Verdict;
}
