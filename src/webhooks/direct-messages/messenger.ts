import type { Activity, Mention } from '../activity.js';
import type { HttpRequest } from '../http/http-client.js';
import type { ProviderResponse, Throttle } from '../providers/provider.js';
import type { ImAppType } from './im-app-types.js';

/** An IM app with its credentials opened (in this process's memory only: never stored, never logged). */
export interface OpenedImApp {
  projectId: number;
  type: ImAppType;
  /** The API base set for the app; null: the vendor's own hosts. */
  apiBase: string | null;
  credentials: Record<string, string>;
  /** Tells one set of credentials from another (a token is cached per set). */
  credentialsDigest: string;
}

/** What one answer of the vendor's API says. */
export type Reading<T> =
  | { kind: 'ok'; value: T }
  /** Transient: the delivery is tried again (not before `notBefore` when the vendor said). */
  | { kind: 'retry'; reason: string; notBefore?: Date }
  /** The access token is expired or invalid: fetch a new one and ask again (once). */
  | { kind: 'token-expired'; reason: string }
  /** The person cannot be reached this way (nobody by that email, the app lacks a scope, bad credentials): the channel mentions them instead. */
  | { kind: 'unreachable'; reason: string };

export type TokenPurpose = 'lookup' | 'send';

export interface AccessToken {
  token: string;
  /** Epoch ms: when the vendor says it stops working. */
  expiresAt: number;
}

export interface DmRenderContext {
  now: Date;
  brand: string;
  /** The delivery's stable id (a vendor that deduplicates by a key gets it). */
  deliveryId: string;
  /** Its requeues so far (`retry_base`: a redelivery, a recovery): a vendor's deduplication key changes with it, so a manual redelivery is a new message. */
  requeued?: number;
}

/**
 * One vendor's direct messages, as a provider adapter is one chat service's webhook: requests
 * built and answers read, no I/O (the sender makes the calls, keeps the token and the look-ups,
 * and records the attempt), so the rendering and judging can move with the delivery engine.
 */
export interface DirectMessenger {
  readonly type: ImAppType;
  /** How an access token is obtained; absent when the credentials are the token (Slack's bot token). */
  readonly token?: {
    /** `purpose`: a vendor whose look-up and message are different services (Teams: Graph, the Bot Framework) asks a token for each. */
    request(app: OpenedImApp, purpose: TokenPurpose): HttpRequest;
    /** Whether the look-up and the message take different tokens. */
    perPurpose?: boolean;
    read(response: ProviderResponse, now: Date): Reading<AccessToken>;
  };
  /** The bearer of a call: the fetched token, or (no token step) what the credentials hold. */
  bearer(app: OpenedImApp, token: string | null): string;
  /** The person's id in the vendor, when one of their handles is it (Slack member id, WeCom userid): no look-up. */
  handle(person: Mention): string | undefined;
  /** What a look-up would find them by (email, phone): undefined when there is nothing to look up by. */
  lookupKey(person: Mention): string | undefined;
  lookup(app: OpenedImApp, bearer: string, key: string): HttpRequest;
  readLookup(response: ProviderResponse, now: Date): Reading<string>;
  /** A second look-up call, when the vendor's API finds the id in two steps (Teams: the installation, then its chat), from what the first found. */
  lookupNext?: {
    request(app: OpenedImApp, bearer: string, key: string, found: string): HttpRequest;
    read(response: ProviderResponse, now: Date): Reading<string>;
  };
  /** The direct message to the person of this id. */
  render(activity: Activity, userId: string, app: OpenedImApp, bearer: string, ctx: DmRenderContext): HttpRequest;
  judge(response: ProviderResponse, now: Date): Reading<void>;
  /** What an answer says of the vendor's limit (a 429, a rate-limit code), whatever the reading. */
  throttle?(response: ProviderResponse, now: Date): Throttle | undefined;
}

/** Whether a person can get a direct message at all: a handle that is their id, or something to look them up by. */
export const canReach = (messenger: DirectMessenger, person: Mention): boolean => messenger.handle(person) !== undefined || messenger.lookupKey(person) !== undefined;

/** `base` (the app's API base, or the vendor's host for this call) joined with a path. */
export const at = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
