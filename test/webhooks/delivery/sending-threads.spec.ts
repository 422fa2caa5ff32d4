import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { InProcessChannelSender, renderAndSend, type ChannelJob, type ChannelSent } from '../../../src/webhooks/delivery/channel-send.js';
import { SendingThreads, sendingThreadModule } from '../../../src/webhooks/delivery/sending-threads.js';
import { WebhookHttpClient } from '../../../src/webhooks/http/http-client.js';
import { Receiver } from '../../support/receiver.js';
import { ACTIVITIES, NOW_MS, hook } from '../providers/activities.js';

/** Channel messages rendered, signed and sent by threads beside the service's (issue 26). */
describe('SendingThreads', () => {
  const receiver = new Receiver();
  const problems: string[] = [];
  const local = { allowedCidrs: ['127.0.0.0/8'], timeoutMs: 10_000 };
  let pools: SendingThreads[] = [];
  const pool = (count: number, module?: URL, http = local) => {
    const made = new SendingThreads(count, http, new InProcessChannelSender(new WebhookHttpClient(local)), (p) => problems.push(p), module);
    pools.push(made);
    return made;
  };
  const job = (overrides: Partial<ChannelJob> = {}): ChannelJob => ({
    type: 'CUSTOM',
    activity: JSON.stringify(ACTIVITIES.issueCreated),
    target: hook('CUSTOM', { url: receiver.url('/hook?token=s3cret'), signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }),
    context: { now: NOW_MS, brand: 'Herald', deliveryId: 'msg_thread_1', version: '0.1.0' },
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    ...overrides,
  });
  const sentOf = (result: ChannelSent) => {
    if (result.kind !== 'sent') throw new Error(`expected a sent message, got ${JSON.stringify(result)}`);
    return result;
  };

  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.delayMs = 0;
    problems.length = 0;
  });
  afterEach(async () => {
    await Promise.all(pools.map((p) => p.close()));
    pools = [];
  });

  it('sends from a thread exactly the request the service’s own thread would send, and brings back the answer', async () => {
    const threads = pool(2);
    const inThread = sentOf(await threads.send(job()));
    const here = sentOf(await renderAndSend(job(), (request) => new WebhookHttpClient(local).send(request)));
    expect(inThread.request).toEqual(here.request);
    expect(inThread.response).toMatchObject({ kind: 'response', status: 200, body: '{"code":0,"message":""}' });
    // the receiver got both, byte for byte the same (signature, webhook-id, timestamp and the trace's header included)
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0].body).toBe(receiver.received[1].body);
    expect(receiver.received[0].headers['webhook-signature']).toBe(receiver.received[1].headers['webhook-signature']);
    expect(receiver.received[0].headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(threads.size).toBe(2);
    expect(problems).toEqual([]);
  });

  it('spreads many messages over its threads, each answered once', async () => {
    const threads = pool(2);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => threads.send(job({ context: { ...job().context, deliveryId: `msg_${i}` } }))));
    expect(results.map((r) => sentOf(r).response.kind)).toEqual(Array(40).fill('response'));
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(40);
    expect(receiver.received).toHaveLength(40);
  });

  it('keeps the address rules in the thread: a private address not allowed is refused there', async () => {
    const result = sentOf(await pool(1, undefined, { allowedCidrs: [], timeoutMs: 10_000 }).send(job()));
    expect(result.response).toMatchObject({ kind: 'error', error: 'blocked address' });
    expect(receiver.received).toHaveLength(0);
  });

  it('abandons a request when the attempt is abandoned (the instance stops attempting)', async () => {
    receiver.delayMs = Infinity;
    const controller = new AbortController();
    const sending = pool(1).send(job(), controller.signal);
    await waitFor(() => receiver.received.length === 1);
    controller.abort(new Error('heartbeat lost'));
    expect(sentOf(await sending).response).toMatchObject({ kind: 'error', error: 'network', detail: 'abandoned: heartbeat lost' });
  });

  it('sends nothing for an attempt abandoned before its message reached the thread (it waited in a batch)', async () => {
    const threads = pool(1);
    receiver.delayMs = Infinity;
    const busy = new AbortController();
    const first = threads.send(job(), busy.signal);
    const controller = new AbortController();
    const second = threads.send(job({ context: { ...job().context, deliveryId: 'msg_second' } }), controller.signal);
    controller.abort(new Error('heartbeat lost'));
    expect(sentOf(await second).response).toMatchObject({ kind: 'error', error: 'network', detail: 'abandoned: heartbeat lost' });
    busy.abort(new Error('done'));
    await first;
    expect(receiver.received.map((r) => r.headers['webhook-id'])).not.toContain('msg_second');
  });

  it('answers what it cannot send without sending: an unmapped activity, a message that cannot be rendered, a direct message', async () => {
    const threads = pool(1);
    expect(await threads.send(job({ activity: JSON.stringify({ unmapped: 'could not map event 7' }) }))).toEqual({ kind: 'unsent', reason: 'could not map event 7' });
    expect(await threads.send(job({ activity: '{not json' }))).toMatchObject({ kind: 'unsent', reason: expect.stringMatching(/^could not read the stored activity/) });
    // an activity missing its parts (say, a stored row damaged by hand): the adapter throws, and the stack comes back for the log
    expect(await threads.send(job({ activity: JSON.stringify({ type: 'bb.issue.created' }) }))).toEqual({
      kind: 'unsent',
      reason: expect.stringMatching(/^could not render the message: Cannot read properties of undefined/),
      renderError: { message: expect.any(String), stack: expect.stringContaining('custom.js') },
    });
    const dm = { ...ACTIVITIES.issueCreated, directMessage: { to: { id: 2, name: 'Alice Chen' } } };
    expect(await threads.send(job({ activity: JSON.stringify(dm) }))).toEqual({ kind: 'direct-message', activity: dm });
    expect(receiver.received).toHaveLength(0);
  });

  it('a thread that stops with messages unanswered: they come back lost (tried again), and a new thread takes its place', async () => {
    const threads = pool(1, pathToFileURL(resolve('test/support/threads/dies-on-first-job.mjs')));
    await waitFor(() => threads.size === 1);
    const result = await threads.send(job());
    expect(result).toMatchObject({ kind: 'lost', reason: expect.stringMatching(/^the sending thread stopped: it exited \(code 3\)/) });
    await waitFor(() => threads.replaced === 1);
    expect(problems[0]).toMatch(/a sending thread stopped .*a new one takes its place/);
  });

  it('threads that cannot start leave the sending to the service’s thread, said once each', async () => {
    const threads = pool(2, pathToFileURL(resolve('test/support/threads/never-starts.mjs')));
    await waitFor(() => threads.size === 0);
    expect(problems).toEqual([expect.stringMatching(/could not start .*1 still send/), expect.stringMatching(/could not start .*sent from the service’s thread/)]);
    expect(sentOf(await threads.send(job())).response).toMatchObject({ kind: 'response', status: 200 });
    expect(receiver.received).toHaveLength(1);
  });

  it('runs the build of its module when loaded from the TypeScript sources', () => {
    expect(sendingThreadModule('file:///app/dist/src/webhooks/delivery/sending-threads.js').href).toBe('file:///app/dist/src/webhooks/delivery/attempt-thread.js');
    expect(sendingThreadModule(pathToFileURL(resolve('src/webhooks/delivery/sending-threads.ts')).href).href).toBe(pathToFileURL(resolve('dist/src/webhooks/delivery/attempt-thread.js')).href);
    expect(() => sendingThreadModule('file:///nowhere/src/webhooks/delivery/sending-threads.ts')).toThrow(/not built .*npm run build/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
