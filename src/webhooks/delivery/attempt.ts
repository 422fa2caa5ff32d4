import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { HERALD_VERSION } from '../../version.js';
import type { Activity, Mention } from '../activity.js';
import { DirectMessageSender, type DmResult } from '../direct-messages/dm-sender.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import { WebhookHttpClient, type HttpOutcome } from '../http/http-client.js';
import { receiverThrottle } from '../providers/judging.js';
import type { OutgoingRequest, Throttle, WebhookTarget } from '../providers/provider.js';
import { providerFor } from '../providers/registry.js';
import { AttemptTrace, type AttemptOrigin } from './attempt-trace.js';
import { CHANNEL_SENDER, type ChannelSender } from './channel-send.js';
import type { AttemptVerdict } from './outcome.js';

export const WEBHOOK_HTTP = Symbol('WEBHOOK_HTTP');

/** One attempt: the request as sent (credentials in clear: never store or log it as is), what came back, and the verdict. */
export interface Attempt {
  request: OutgoingRequest;
  /** Null when nothing was sent (the message could not be built). */
  response: HttpOutcome | null;
  verdict: AttemptVerdict;
  /** What the answer said of the receiver's limit: every webhook sharing it waits (see SharedPace). */
  throttle?: Throttle;
  startedAt: Date;
  durationMs: number;
  /** Its span: ended by the recorder, with the outcome. */
  trace?: AttemptTrace;
  /** Which endpoint the answer (and its throttle) came from: the webhook's channel, or the IM app's API (a direct message). */
  via?: 'channel' | 'im-app';
  /**
   * A direct message's fall-back that found the channel's pace slot taken: nothing went to the
   * channel, and the delivery waits for the slot (not an attempt: nothing to record).
   */
  waitsUntil?: number;
}

/** How a direct message's attempt is made (the dispatcher knows both). */
export interface DmAttemptOptions {
  /** The delivery's last scheduled attempt: a DM that fails now is mentioned in the channel instead. */
  final?: boolean;
  /** The delivery's requeues so far (its retry_base): a redelivery is a new message to a vendor that deduplicates. */
  requeued?: number;
  /** Takes the channel's pace slot for a fall-back: now when it may go, else when its slot comes. */
  channelSlot?: (now: number) => Promise<number>;
}

/**
 * One attempt of one delivery: render the activity with the webhook's provider (its
 * credentials opened only here), sign it, send it, and judge the answer.
 */
@Injectable()
export class AttemptMaker implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DeliveryAttempt');
  /**
   * Credentials opened once per webhook configuration (the directory holds one object per
   * version of it: a change makes a new one, and this entry goes with the old), kept in
   * this process's memory only, never logged or stored.
   */
  private readonly opened = new WeakMap<WebhookConfig, { url: string; signingSecret: string | null; previous: { secret: string; until: number } | null; headers: Record<string, string> }>();

  constructor(
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WEBHOOK_HTTP) private readonly http: WebhookHttpClient,
    @Inject(CHANNEL_SENDER) private readonly sender: ChannelSender,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly directMessages: DirectMessageSender,
  ) {}

  /** After every module stopped attempting (the dispatcher's workers have ended). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.sender.close(), this.http.close()]);
  }

  /**
   * `activity` as stored with the delivery (JSON) or as built (a test). `signal` abandons
   * the attempt (this instance stops attempting: see InstanceHeartbeat).
   */
  async make(hook: WebhookConfig, activity: Activity | string, deliveryId: string, signal?: AbortSignal, origin: AttemptOrigin = { number: 1 }, dm: DmAttemptOptions = {}): Promise<Attempt> {
    const trace = AttemptTrace.start(hook, deliveryId, origin);
    return { ...(await trace.run(() => this.attempt(hook, activity, deliveryId, signal, trace, dm))), trace };
  }

  private async attempt(hook: WebhookConfig, activity: Activity | string, deliveryId: string, signal: AbortSignal | undefined, trace: AttemptTrace, dm: DmAttemptOptions): Promise<Attempt> {
    const startedAt = this.clock.now();
    // read, rendered and sent where the sender runs (a thread of its own: sending-threads.ts); a direct message comes back unsent
    const sent = await this.channelMessage(hook, activity, deliveryId, signal, trace, startedAt);
    if ('directMessage' in sent) return this.directMessage(hook, sent.directMessage, sent.directMessage.directMessage!.to, { deliveryId, signal, trace, startedAt, ...dm });
    return sent;
  }

  /**
   * A direct message (see direct-messages/): sent through the project's IM app; a person it
   * cannot reach, or not within the delivery's retries, is mentioned in the webhook's channel
   * instead, in this same attempt and at the channel's pace, and the delivery says why.
   */
  private async directMessage(hook: WebhookConfig, activity: Activity, to: Mention, at: { deliveryId: string; signal: AbortSignal | undefined; trace: AttemptTrace; startedAt: Date } & DmAttemptOptions): Promise<Attempt> {
    const { deliveryId, signal, trace, startedAt } = at;
    let result: DmResult;
    try {
      result = await this.directMessages.send(hook, activity, to, { deliveryId, requeued: at.requeued ?? 0 }, () => this.clock.now(), (request) => this.http.send(request, signal));
    } catch (error) {
      this.logger.error({ err: error, webhookId: hook.id, deliveryId }, 'could not make a direct message');
      return unsent(hook, `could not make the direct message: ${(error as Error).message}`, startedAt, trace);
    }
    // the person is told in the channel when the IM app cannot reach them, or when this was the DM's last try
    const fallBack = result.kind === 'fall-back' ? result.reason : at.final && result.verdict.kind !== 'delivered' ? `retries exhausted: ${result.verdict.reason}` : null;
    if (fallBack !== null) {
      const now = this.clock.now().getTime();
      const slot = at.channelSlot ? await at.channelSlot(now) : now;
      if (slot > now) return { ...unsent(hook, 'waits for the channel’s pace slot', startedAt, trace), waitsUntil: slot };
      const channel = await this.channelMessage(hook, { ...activity, directMessage: undefined, mentions: [to] }, deliveryId, signal, trace, startedAt);
      if ('directMessage' in channel) throw new Error('unreachable: a fall-back is no direct message');
      this.logger.log({ webhookId: hook.id, deliveryId, userId: to.id, reason: fallBack }, 'direct message fell back to the channel');
      return channel.verdict.kind === 'delivered' ? { ...channel, verdict: { kind: 'delivered', note: `fell back to the channel: ${fallBack}` } } : channel;
    }
    if (result.kind !== 'sent') throw new Error('unreachable: a fall-back is handled above');
    trace.sent(result.response, result.verdict);
    if (result.verdict.kind !== 'delivered') {
      this.logger.warn({ webhookId: hook.id, deliveryId, userId: to.id, verdict: result.verdict.kind, reason: result.verdict.reason }, 'direct message attempt unsuccessful');
    }
    const { request, response, verdict, throttle } = result;
    return { request, response, verdict, ...(throttle ? { throttle } : {}), via: 'im-app', startedAt, durationMs: this.clock.now().getTime() - startedAt.getTime() };
  }

  /** The webhook's own message to its channel (or, when the activity is a direct message, that activity, unsent). */
  private async channelMessage(hook: WebhookConfig, activity: Activity | string, deliveryId: string, signal: AbortSignal | undefined, trace: AttemptTrace, startedAt: Date): Promise<Attempt | { directMessage: Activity }> {
    const sent = await this.sender.send(
      {
        type: hook.type,
        activity,
        target: this.target(hook, startedAt),
        context: { now: startedAt.getTime(), brand: this.config.brand, deliveryId, version: HERALD_VERSION },
        headers: trace.headers(),
      },
      signal,
    );
    if (sent.kind === 'direct-message') return { directMessage: sent.activity };
    if (sent.kind === 'unsent') {
      // a message we cannot build is our bug: it fails at once, and says nothing about the endpoint's health
      if (sent.renderError) this.logger.error({ err: sent.renderError, webhookId: hook.id, deliveryId }, 'could not render a webhook message');
      return unsent(hook, sent.reason, startedAt, trace);
    }
    const provider = providerFor(hook.type);
    const request = sent.kind === 'sent' ? sent.request : undefined;
    // a thread that stopped before it answered: the request may have gone (tried again, the same webhook-id)
    const response: HttpOutcome = sent.kind === 'lost' ? { kind: 'error', error: 'network', detail: sent.reason, durationMs: this.clock.now().getTime() - startedAt.getTime() } : sent.response;
    const answer = response.kind === 'response' ? { status: response.status, headers: response.headers, body: response.body } : undefined;
    const judging = { now: this.clock.now(), url: request?.url ?? hook.urlMasked };
    const verdict: AttemptVerdict =
      response.kind === 'response'
        ? provider.judge(answer!, judging)
        : response.error === 'blocked address'
          ? { kind: 'failed', reason: `blocked address: ${response.detail}` }
          : { kind: 'retry', reason: `${response.error}: ${response.detail}` };
    trace.sent(response, verdict);
    if (verdict.kind !== 'delivered') {
      this.logger.warn({ webhookId: hook.id, deliveryId, url: hook.urlMasked, verdict: verdict.kind, reason: verdict.reason }, 'webhook attempt unsuccessful');
    }
    const throttle = answer && receiverThrottle(provider, answer, judging);
    return { request: request ?? { url: hook.urlMasked, headers: {}, body: '' }, response, verdict, ...(throttle ? { throttle } : {}), via: 'channel', startedAt, durationMs: response.durationMs };
  }

  /** The webhook with its credentials opened; a signing secret replaced less than 24 h ago still signs too. */
  private target(hook: WebhookConfig, now: Date): WebhookTarget {
    let opened = this.opened.get(hook);
    if (!opened) {
      opened = {
        url: this.box.open(hook.url),
        signingSecret: hook.signingSecret ? this.box.open(hook.signingSecret) : null,
        previous: hook.previousSigningSecret ? { secret: this.box.open(hook.previousSigningSecret.secret), until: Date.parse(hook.previousSigningSecret.until) } : null,
        headers: Object.fromEntries(Object.entries(hook.headers).map(([name, value]) => [name, this.box.open(value)])),
      };
      this.opened.set(hook, opened);
    }
    const previous = opened.previous && opened.previous.until > now.getTime() ? [opened.previous.secret] : [];
    return {
      id: hook.id,
      type: hook.type,
      name: hook.name,
      url: opened.url,
      signingSecrets: [...(opened.signingSecret ? [opened.signingSecret] : []), ...previous],
      headers: opened.headers,
    };
  }
}

/** Nothing was sent: the recorded request shows only where it would have gone. */
function unsent(hook: WebhookConfig, reason: string, startedAt: Date, trace: AttemptTrace): Attempt {
  const verdict = { kind: 'unsent' as const, reason };
  trace.sent(null, verdict);
  return { request: { url: hook.urlMasked, headers: {}, body: '' }, response: null, verdict, via: 'channel', startedAt, durationMs: 0 };
}
