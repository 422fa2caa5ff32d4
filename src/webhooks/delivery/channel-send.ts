import type { Activity } from '../activity.js';
import type { HttpOutcome, HttpRequest } from '../http/http-client.js';
import type { OutgoingRequest, WebhookTarget } from '../providers/provider.js';
import { providerFor, type WebhookType } from '../providers/registry.js';

/**
 * One channel message to make: everything a thread needs, as plain data (it is copied to the
 * thread that sends it). The target's credentials are in clear: it never leaves this process.
 */
export interface ChannelJob {
  type: WebhookType;
  /** As stored with the delivery (JSON), or as built (a test message, a direct message's fall-back). */
  activity: string | Activity;
  target: WebhookTarget;
  /** The attempt's time (ms), the brand, the delivery's stable id and Herald's version. */
  context: { now: number; brand: string; deliveryId: string; version: string };
  /** Sent as well, outside what is signed (the attempt's traceparent). */
  headers: Record<string, string>;
}

export type ChannelSent =
  /** The request as sent (credentials in clear) and what came back (judged by the caller, on its clock). */
  | { kind: 'sent'; request: OutgoingRequest; response: HttpOutcome }
  /** Nothing sent. `renderError`: the message could not be built (Herald's bug, worth a log line with its stack). */
  | { kind: 'unsent'; reason: string; renderError?: { message: string; stack?: string } }
  /** The activity is a direct message: the caller sends it through the project's IM app. */
  | { kind: 'direct-message'; activity: Activity }
  /** The thread sending it stopped before it answered: the request may have gone (tried again, same webhook-id). */
  | { kind: 'lost'; reason: string };

/** Sends a channel message: where (this thread or another) is the implementation's choice. */
export interface ChannelSender {
  send(job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent>;
  close(): Promise<void>;
}

export const CHANNEL_SENDER = Symbol('CHANNEL_SENDER');

/**
 * Reads the activity, renders and signs it with the webhook's provider, and sends it. The
 * same code runs on the service's thread and in the sending threads (attempt-thread.ts).
 */
export async function renderAndSend(job: ChannelJob, send: (request: HttpRequest) => Promise<HttpOutcome>): Promise<ChannelSent> {
  let parsed: Activity | { unmapped: string };
  try {
    parsed = typeof job.activity === 'string' ? (JSON.parse(job.activity) as Activity | { unmapped: string }) : job.activity;
  } catch (error) {
    return { kind: 'unsent', reason: `could not read the stored activity: ${(error as Error).message}` };
  }
  // the event could not be mapped to an activity (said when the delivery was created): still nothing to send
  if ('unmapped' in parsed) return { kind: 'unsent', reason: parsed.unmapped };
  if (parsed.directMessage) return { kind: 'direct-message', activity: parsed };
  let request: OutgoingRequest;
  try {
    const { now, ...context } = job.context;
    request = providerFor(job.type).render(parsed, job.target, { ...context, now: new Date(now) });
  } catch (error) {
    // a message we cannot build is our bug: it fails at once rather than being retried forever
    const { message, stack } = error as Error;
    return { kind: 'unsent', reason: `could not render the message: ${message}`, renderError: { message, stack } };
  }
  // the receiver may join the trace; signatures cover the id, the timestamp and the body, not these
  request = { ...request, headers: { ...request.headers, ...job.headers } };
  return { kind: 'sent', request, response: await send(request) };
}

/** Sends on the service's own thread (WEBHOOK_THREADS=0). */
export class InProcessChannelSender implements ChannelSender {
  constructor(private readonly http: { send(request: HttpRequest, signal?: AbortSignal): Promise<HttpOutcome> }) {}

  send(job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent> {
    return renderAndSend(job, (request) => this.http.send(request, signal));
  }

  async close(): Promise<void> {}
}
