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
let outbox: { id: number; sent: ChannelSent }[] = [];

function answer(id: number, sent: ChannelSent): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push({ id, sent });
}

function flush(): void {
  const results = outbox;
  outbox = [];
  port.postMessage({ results } satisfies FromThread);
}

function start(id: number, job: ChannelJob): void {
  const controller = new AbortController();
  inFlight.set(id, controller);
  renderAndSend(job, (request) => http.send(request, controller.signal))
    .catch((error: unknown): ChannelSent => ({ kind: 'unsent', reason: `could not send: ${(error as Error).message}` }))
    .then((sent) => {
      inFlight.delete(id);
      answer(id, sent);
    });
}

port.on('message', (message: ToThread) => {
  if ('jobs' in message) for (const { id, job } of message.jobs) start(id, job);
  else if ('cancel' in message) inFlight.get(message.cancel)?.abort(new Error(message.reason));
  else void http.close().finally(() => port.close());
});

port.postMessage({ ready: true } satisfies FromThread);
