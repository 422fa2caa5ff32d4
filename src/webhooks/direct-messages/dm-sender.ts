import { Inject, Injectable, Logger } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { EventStore } from '../../event-store/event-store.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import type { Activity, Mention } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { HttpOutcome, HttpRequest } from '../http/http-client.js';
import type { ProviderResponse, Throttle, Verdict } from '../providers/provider.js';
import { LookupCache, OpenedApps, TokenCache } from './dm-caches.js';
import type { ImAppConfig } from './im-app.decider.js';
import { loadImApp } from './im-app.projection.js';
import type { AccessToken, DirectMessenger, OpenedImApp, Reading, TokenPurpose } from './messenger.js';
import { messengerFor } from './messengers.js';

/** One direct message's attempt: sent (or to be tried again), or the person is mentioned in the channel instead. */
export type DmResult =
  | { kind: 'sent'; request: HttpRequest; response: HttpOutcome; verdict: Verdict; throttle?: Throttle }
  | { kind: 'fall-back'; reason: string };

type Send = (request: HttpRequest) => Promise<HttpOutcome>;

/** A step that did not give what was asked: the attempt ends with it. */
class Stop {
  constructor(readonly result: DmResult) {}
}

/**
 * Makes one attempt of a direct message: the app's access token (cached, fetched when missing
 * or expired), the person's id (their handle, or the vendor's look-up, cached), then the
 * message; a token the vendor calls expired is fetched again once and the call repeated. What
 * is recorded is the message's request (or, when an earlier step ended the attempt, only where
 * that step went): a token request carries the app's secret and is never recorded or logged.
 */
@Injectable()
export class DirectMessageSender {
  private readonly logger = new Logger('DirectMessages');
  private readonly tokens = new TokenCache();
  private readonly people = new LookupCache();
  /** Credentials opened once per set, in memory only, per project and vendor. */
  private readonly opened = new OpenedApps();

  constructor(
    private readonly store: EventStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** `message`: the delivery's id and its requeues so far (see DmRenderContext). */
  async send(hook: WebhookConfig, activity: Activity, to: Mention, message: { deliveryId: string; requeued: number }, now: () => Date, send: Send): Promise<DmResult> {
    const messenger = messengerFor(hook.type);
    const config = messenger ? await loadImApp(this.store, hook.projectId, messenger.type) : undefined;
    if (!messenger || !config) {
      // removed: what this process kept for it goes
      if (messenger && this.opened.drop(hook.projectId, messenger.type)) this.forget(hook.projectId, messenger.type);
      return { kind: 'fall-back', reason: `the project has no ${hook.type} IM app` };
    }
    const app = this.open(config);
    try {
      return await this.deliver(messenger, app, activity, to, message, now, send);
    } catch (error) {
      if (error instanceof Stop) return error.result;
      throw error;
    }
  }

  private async deliver(messenger: DirectMessenger, app: OpenedImApp, activity: Activity, to: Mention, message: { deliveryId: string; requeued: number }, now: () => Date, send: Send): Promise<DmResult> {
    const tokenKey = `${app.projectId}:${app.type}:${app.credentialsDigest}`;
    // a call that says the token expired is made again once, with a new one
    const withToken = async <T>(purpose: TokenPurpose, call: (bearer: string) => Promise<{ reading: Reading<T>; request: HttpRequest; outcome: HttpOutcome }>) => {
      const key = messenger.token?.perPurpose ? `${tokenKey}:${purpose}` : tokenKey;
      for (let round = 0; ; round++) {
        const token = messenger.token ? await this.token(messenger, app, key, purpose, now, send) : null;
        const made = await call(messenger.bearer(app, token));
        if (made.reading.kind !== 'token-expired' || !token || round > 0) return made;
        this.tokens.expire(key, token);
        this.logger.log({ type: app.type, projectId: app.projectId, reason: made.reading.reason }, 'IM app access token expired; fetching a new one');
      }
    };
    let userId = messenger.handle(to);
    if (userId === undefined) {
      const key = messenger.lookupKey(to);
      if (key === undefined) return { kind: 'fall-back', reason: `${to.name} has no handle ${app.type} can find them by` };
      const lookupKey = `${tokenKey}:${key}`;
      const cached = this.people.get(lookupKey, now().getTime());
      if (cached?.id === null) return { kind: 'fall-back', reason: `look-up: ${cached.reason ?? `${app.type} found nobody for ${to.name}`} (cached)` };
      userId = cached?.id;
      if (userId === undefined) {
        let found = await withToken('lookup', (bearer) => call(send, messenger.lookup(app, bearer, key), (r) => messenger.readLookup(r, now())));
        const next = messenger.lookupNext;
        if (next && found.reading.kind === 'ok') {
          const first = found.reading.value;
          found = await withToken('lookup', (bearer) => call(send, next.request(app, bearer, key, first), (r) => next.read(r, now())));
        }
        if (found.reading.kind === 'unreachable') this.people.set(lookupKey, null, now().getTime(), found.reading.reason);
        userId = this.value(found, 'look-up');
        this.people.set(lookupKey, userId, now().getTime());
      }
    }
    const id = userId;
    const sent = await withToken('send', (bearer) => call(send, messenger.render(activity, id, app, bearer, { now: now(), brand: this.config.brand, ...message }), (r) => messenger.judge(r, now())));
    if (sent.reading.kind === 'unreachable') return { kind: 'fall-back', reason: sent.reading.reason };
    // refused with a token fetched just now: the app lacks a permission (Teams' 401), which no retry cures
    if (sent.reading.kind === 'token-expired') return { kind: 'fall-back', reason: `token still refused after a new one: ${sent.reading.reason}` };
    const answer = responseOf(sent.outcome);
    const throttle = answer && messenger.throttle?.(answer, now());
    return { kind: 'sent', request: sent.request, response: sent.outcome, verdict: verdictOf(sent.reading), ...(throttle ? { throttle } : {}) };
  }

  /** The app's access token, cached; a failed fetch ends the attempt (recorded without the request's secret). */
  private async token(messenger: DirectMessenger, app: OpenedImApp, key: string, purpose: TokenPurpose, now: () => Date, send: Send): Promise<string> {
    const { token, fetched } = await this.tokens.get(key, now().getTime(), async (): Promise<AccessToken> => {
      const request = messenger.token!.request(app, purpose);
      const outcome = await send(request);
      const answer = responseOf(outcome);
      const reading: Reading<AccessToken> = answer ? messenger.token!.read(answer, now()) : transportReading(outcome);
      if (reading.kind === 'ok') return reading.value;
      // where it went, not what it carried (the app's secret)
      const recorded = { method: request.method, url: request.url, headers: {}, body: '' };
      throw new Stop(reading.kind === 'unreachable' ? { kind: 'fall-back', reason: `token: ${reading.reason}` } : { kind: 'sent', request: recorded, response: outcome, verdict: verdictOf(reading) });
    });
    if (fetched) this.logger.log({ type: app.type, projectId: app.projectId }, 'IM app access token fetched');
    return token;
  }

  /** A look-up's value, or the attempt ends (recorded as where it went: the query may hold an email). */
  private value<T>(made: { reading: Reading<T>; request: HttpRequest; outcome: HttpOutcome }, step: string): T {
    if (made.reading.kind === 'ok') return made.reading.value;
    if (made.reading.kind === 'unreachable') throw new Stop({ kind: 'fall-back', reason: `${step}: ${made.reading.reason}` });
    if (made.reading.kind === 'token-expired') throw new Stop({ kind: 'fall-back', reason: `${step}: token still refused after a new one: ${made.reading.reason}` });
    throw new Stop({ kind: 'sent', request: { ...made.request, headers: {}, body: '' }, response: made.outcome, verdict: verdictOf(made.reading) });
  }

  /** Drops the tokens and look-ups kept for a project's app (their keys start with its project and type). */
  private forget(projectId: number, type: string): void {
    this.tokens.forget(`${projectId}:${type}:`);
    this.people.forget(`${projectId}:${type}:`);
  }

  private open(config: ImAppConfig): OpenedImApp {
    const { credentials, replaced } = this.opened.open(config.projectId, config.type, config.credentialsDigest, config.credentials, (sealed) => this.box.open(sealed));
    // new credentials: the old ones' tokens and look-ups go
    if (replaced) this.forget(config.projectId, config.type);
    return { projectId: config.projectId, type: config.type, apiBase: config.apiBase, credentials, credentialsDigest: config.credentialsDigest };
  }
}

async function call<T>(send: Send, request: HttpRequest, read: (response: ProviderResponse) => Reading<T>) {
  const outcome = await send(request);
  const answer = responseOf(outcome);
  return { request, outcome, reading: answer ? read(answer) : transportReading<T>(outcome) };
}

const responseOf = (outcome: HttpOutcome): ProviderResponse | undefined =>
  outcome.kind === 'response' ? { status: outcome.status, headers: outcome.headers, body: outcome.body } : undefined;

/** No answer: a refused address is the app's configuration (the channel mentions the person); the rest is transient. */
function transportReading<T>(outcome: HttpOutcome): Reading<T> {
  if (outcome.kind === 'response') throw new Error('an answer is read by the messenger');
  return outcome.error === 'blocked address' ? { kind: 'unreachable', reason: `blocked address: ${outcome.detail}` } : { kind: 'retry', reason: `${outcome.error}: ${outcome.detail}` };
}

/** A reading as the delivery's verdict (an expired token that a new one did not cure is tried again later). */
function verdictOf(reading: Reading<unknown>): Verdict {
  switch (reading.kind) {
    case 'ok':
      return { kind: 'delivered' };
    case 'retry':
      return reading.notBefore ? { kind: 'retry', reason: reading.reason, notBefore: reading.notBefore } : { kind: 'retry', reason: reading.reason };
    case 'token-expired':
      return { kind: 'retry', reason: `token still refused after a new one: ${reading.reason}` };
    case 'unreachable':
      return { kind: 'failed', reason: reading.reason };
  }
}
