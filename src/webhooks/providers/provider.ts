import type { RetiredUrlView } from '../../contract/webhooks.js';
import type { Activity } from '../activity.js';

/** What an adapter needs to know of the webhook it renders for. Secrets are in clear here, and only here. */
export interface WebhookTarget {
  id: number;
  /** The webhook's type (a `WebhookType` of the registry). */
  type: string;
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
  /** `note`: how it went when not as asked (a direct message that fell back to the channel, and why). */
  | { kind: 'delivered'; note?: string }
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
 * The limits a receiver keeps, which every instance keeps to together (see delivery/pace.ts),
 * and what the receiver counts by: webhooks of Herald that share it share the limits.
 */
export interface ReceiverPace {
  /** All must hold; empty when the receiver states none (its answers still slow it: see `throttle`). */
  readonly limits: readonly RateLimit[];
  /**
   * What the receiver counts by, read from the webhook's URL (DingTalk: the robot's access_token);
   * undefined when the URL does not say (then the whole URL). Two webhooks with the same one share the limits.
   */
  sharedBy?(url: URL): string | undefined;
}

/** What an answer says of the receiver's limit: nothing more goes to it before `until`. */
export interface Throttle {
  until: Date;
  reason: string;
  /** `provider`: the sender as a whole is limited (Discord's global limit): every webhook of the provider waits. */
  scope: 'receiver' | 'provider';
}

/** A provider's signing secret: what it is, and the rule a secret must meet. */
export interface SigningSecretRule {
  /** For people: what to paste, e.g. "the robot's signing secret (8 to 200 characters)". */
  readonly description: string;
  /** A message when the secret is refused, undefined when it is fine. */
  check(secret: string): string | undefined;
}

/**
 * One chat service or endpoint kind, and everything Herald knows of it: validation, the API's
 * enum, configuration and the console all read these fields from the registry. Adding a provider
 * is one file implementing this and one line in the registry.
 */
export interface ProviderAdapter<T extends string = string> {
  /** The short form the API returns (`SLACK`). */
  readonly type: T;
  /** Other spellings accepted on input (Bytebase's `bb.plugin.webhook.slack`), compared case-insensitively. */
  readonly aliases: readonly string[];
  /** For people: `Slack`, `Microsoft Teams`. */
  readonly displayName: string;
  /** A URL of the provider's shape (documentation and placeholders; never contacted). */
  readonly exampleUrl: string;
  /** Hosts accepted for URLs of this type; `*.` matches any subdomain. Empty means any host. */
  readonly hosts: readonly string[];
  /**
   * The fixed, non-secret starts of the provider's URL paths (Slack `/services/`), which a masked
   * URL may show (see url-mask.ts): one ending in `/` keeps that much of a longer path, one
   * without keeps an exactly equal path (its query, which holds the token, hidden). Undefined
   * when the path is the endpoint's own (Custom) or wholly secret.
   */
  readonly publicPathPrefixes?: readonly string[];
  /** Extra URL rules beyond the host (e.g. Discord's /api/webhooks/ path): a message when refused. */
  checkUrl?(url: URL): string | undefined;
  /** How a webhook of this type is signed; absent when the provider has no signing. */
  readonly signingSecret?: SigningSecretRule;
  /** For people writing the receiver (Custom): what it must answer for a delivery to count as delivered. */
  readonly answerRule?: string;
  /** Whether operator-configured extra headers are sent (Custom only). */
  readonly customHeaders: boolean;
  /** The receiver's size limits that rendering keeps to (characters or bytes, as each name says). */
  readonly limits: Readonly<Record<string, number>>;
  /** The receiver's limits, kept by every instance together, and what the receiver counts by. */
  readonly pace: ReceiverPace;
  /** Whether a URL it accepts is of a kind the service has retired (Teams' connectors): undefined when it is not. */
  retiredUrl?(url: URL): RetiredUrlView | undefined;
  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest;
  /** `url`: where the request went (a judge may tell the URL's kind by it). */
  judge(response: ProviderResponse, ctx: JudgeContext): Verdict;
  /**
   * What the answer says of the receiver's limit (a throttle code, a 429, Discord's headers), whatever
   * the verdict; absent: a 429 alone says it (see receiverThrottle in judging.ts).
   */
  throttle?(response: ProviderResponse, ctx: JudgeContext): Throttle | undefined;
}

export interface JudgeContext {
  now: Date;
  url?: string;
}

/** The signing secret of a chat robot (DingTalk's "加签", Feishu/Lark's signature check). */
export const ROBOT_SIGNING_SECRET: SigningSecretRule = {
  description: 'the robot’s signing secret (8 to 200 characters)',
  check: (secret) => (secret.length >= 8 && secret.length <= 200 ? undefined : 'must be 8 to 200 characters'),
};

/** Declares a provider, keeping its `type` as a literal (the registry derives `WebhookType` from it). */
export function defineProvider<const T extends string>(provider: ProviderAdapter<T>): ProviderAdapter<T> {
  return provider;
}
