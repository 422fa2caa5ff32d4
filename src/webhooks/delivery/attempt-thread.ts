/**
 * A sending thread (see sending-threads.ts): renders, signs and sends the channel messages it
 * is given, with an HTTP client of its own (the same address checks), and answers with the
 * request and what came back. Jobs and answers travel in batches, one message per turn of
 * either loop. It logs nothing and keeps nothing: every outcome goes back to the service.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WebhookHttpClient, type WebhookHttpClientOptions } from '../http/http-client.js';
import { renderAndSend, type ChannelJob, type ChannelSent } from './channel-send.js';

export type ToThread = { jobs: { id: number; job: ChannelJob }[] } | { cancel: number; reason: string } | { close: true };
export type FromThread = { ready: true } | { results: { id: number; sent: ChannelSent }[] };

const port = parentPort!;
const http = new WebhookHttpClient(workerData as WebhookHttpClientOptions);
const inFlight = new Map<number, AbortController>();
/** Abandoned before they arrived here (a job waiting in the service's batch): abandoned as they start. */
const abandoned = new Map<number, string>();
let outbox: { id: number; sent: ChannelSent }[] = [];

function answer(id: number, sent: ChannelSent): void {
  outbox.push({ id, sent });
  // the last one in flight goes back at once (nothing else would join it); others, with what ends in this turn
  if (inFlight.size === 0) flush();
  else if (outbox.length === 1) setImmediate(flush);
}

function flush(): void {
  if (outbox.length === 0) return;
  const results = outbox;
  outbox = [];
  port.postMessage({ results } satisfies FromThread);
}

function start(id: number, job: ChannelJob): void {
  const controller = new AbortController();
  inFlight.set(id, controller);
  if (abandoned.has(id)) controller.abort(new Error(abandoned.get(id)));
  abandoned.delete(id);
  renderAndSend(job, (request) => http.send(request, controller.signal))
    .catch((error: unknown): ChannelSent => ({ kind: 'unsent', reason: `could not send: ${(error as Error).message}` }))
    .then((sent) => {
      inFlight.delete(id);
      answer(id, sent);
    });
}

port.on('message', (message: ToThread) => {
  if ('jobs' in message) for (const { id, job } of message.jobs) start(id, job);
  else if ('cancel' in message) {
    const controller = inFlight.get(message.cancel);
    if (controller) controller.abort(new Error(message.reason));
    else abandoned.set(message.cancel, message.reason);
  }
  else void http.close().finally(() => port.close());
});

port.postMessage({ ready: true } satisfies FromThread);
