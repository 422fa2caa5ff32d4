import { InProcessChannelSender, type ChannelJob, type ChannelSender, type ChannelSent } from '../../../src/webhooks/delivery/channel-send.js';
import { InlineWhenQuiet } from '../../../src/webhooks/delivery/inline-when-quiet.js';
import { SendingThreads } from '../../../src/webhooks/delivery/sending-threads.js';
import { WebhookHttpClient } from '../../../src/webhooks/http/http-client.js';
import { Receiver } from '../../support/receiver.js';
import { ACTIVITIES, NOW_MS, hook } from '../providers/activities.js';

/** A sender that records what it was given and answers when the test says. */
class HeldSender implements ChannelSender {
  readonly jobs: { id: string; signal?: AbortSignal; answer: (sent: ChannelSent) => void }[] = [];
  closed = false;

  send(job: ChannelJob, signal?: AbortSignal): Promise<ChannelSent> {
    return new Promise((answer) => this.jobs.push({ id: job.context.deliveryId, signal, answer }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  ids(): string[] {
    return this.jobs.map((j) => j.id);
  }
}

const receiver = new Receiver();
const job = (deliveryId = 'msg_quiet_1'): ChannelJob => ({
  type: 'CUSTOM',
  activity: JSON.stringify(ACTIVITIES.issueCreated),
  target: hook('CUSTOM', { url: receiver.url('/hook?token=s3cret'), signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }),
  context: { now: NOW_MS, brand: 'Herald', deliveryId, version: '0.1.0' },
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});
const ok: ChannelSent = { kind: 'unsent', reason: 'answered by the test' };

/** Issue 26: a lone message in flight goes on the service's thread, the rest to the sending threads. */
describe('InlineWhenQuiet', () => {
  describe('the rule (which path a send takes)', () => {
    let here: HeldSender;
    let threads: HeldSender;
    let sender: InlineWhenQuiet;
    beforeEach(() => {
      here = new HeldSender();
      threads = new HeldSender();
      sender = new InlineWhenQuiet(here, threads);
    });

    it('sends one webhook’s deliveries, each after the last answered, all on the service’s thread', async () => {
      for (let i = 0; i < 5; i++) {
        const sending = sender.send(job(`msg_${i}`));
        here.jobs[i].answer(ok);
        await sending;
      }
      expect(here.ids()).toEqual(['msg_0', 'msg_1', 'msg_2', 'msg_3', 'msg_4']);
      expect(threads.jobs).toEqual([]);
      expect(sender.sent).toEqual({ inline: 5, threads: 0 });
    });

    it('hands a message to the threads while another is in flight, and sends on its own thread again once none is', async () => {
      const first = sender.send(job('msg_first'));
      const second = sender.send(job('msg_second'));
      const third = sender.send(job('msg_third'));
      expect(here.ids()).toEqual(['msg_first']);
      expect(threads.ids()).toEqual(['msg_second', 'msg_third']);
      // the one on the service's thread answers first: the threads' two are still in flight
      here.jobs[0].answer(ok);
      await first;
      const fourth = sender.send(job('msg_fourth'));
      expect(threads.ids()).toEqual(['msg_second', 'msg_third', 'msg_fourth']);
      for (const j of threads.jobs) j.answer(ok);
      await Promise.all([second, third, fourth]);
      // none in flight: the service's thread again
      const fifth = sender.send(job('msg_fifth'));
      expect(here.ids()).toEqual(['msg_first', 'msg_fifth']);
      here.jobs[1].answer(ok);
      expect(await fifth).toBe(ok);
      expect(sender.sent).toEqual({ inline: 2, threads: 3 });
    });

    it('counts a send that failed as ended (the next lone one goes on the service’s thread)', async () => {
      const failing: ChannelSender = { send: () => Promise.reject(new Error('render blew up')), close: async () => undefined };
      const quiet = new InlineWhenQuiet(failing, threads);
      await expect(quiet.send(job('msg_fails'))).rejects.toThrow('render blew up');
      await expect(quiet.send(job('msg_fails_too'))).rejects.toThrow('render blew up');
      expect(quiet.sent).toEqual({ inline: 2, threads: 0 });
      expect(threads.jobs).toEqual([]);
    });

    it('takes a wider rule when given one: up to that many on the service’s thread', () => {
      const wider = new InlineWhenQuiet(here, threads, 2);
      void wider.send(job('a'));
      void wider.send(job('b'));
      void wider.send(job('c'));
      expect(here.ids()).toEqual(['a', 'b']);
      expect(threads.ids()).toEqual(['c']);
    });

    it('passes the attempt’s signal to whichever path sends', () => {
      const controller = new AbortController();
      void sender.send(job('a'), controller.signal);
      void sender.send(job('b'), controller.signal);
      expect(here.jobs[0].signal).toBe(controller.signal);
      expect(threads.jobs[0].signal).toBe(controller.signal);
    });

    it('once closed, sends nothing on either path and closes both', async () => {
      await sender.close();
      expect(await sender.send(job())).toEqual({ kind: 'unsent', reason: 'the service is stopping' });
      expect(here.jobs).toEqual([]);
      expect(threads.jobs).toEqual([]);
      expect([here.closed, threads.closed]).toEqual([true, true]);
    });
  });

  describe('with a real sending thread', () => {
    const local = { allowedCidrs: ['127.0.0.0/8'], timeoutMs: 10_000 };
    let sender: InlineWhenQuiet;
    beforeAll(() => receiver.start());
    afterAll(() => receiver.stop());
    beforeEach(() => {
      receiver.received.length = 0;
      receiver.delayMs = 0;
      const here = new InProcessChannelSender(new WebhookHttpClient(local));
      sender = new InlineWhenQuiet(here, new SendingThreads(1, local, here, (problem) => { throw new Error(problem); }));
    });
    afterEach(() => sender.close());

    it('sends the same bytes on either path (body, signature, webhook-id, the trace’s header)', async () => {
      const [inline, inThread] = await Promise.all([sender.send(job()), sender.send(job())]);
      expect(sender.sent).toEqual({ inline: 1, threads: 1 });
      if (inline.kind !== 'sent' || inThread.kind !== 'sent') throw new Error(`expected two sent messages, got ${inline.kind} and ${inThread.kind}`);
      expect(inThread.request).toEqual(inline.request);
      expect([inline.response, inThread.response]).toMatchObject([{ kind: 'response', status: 200 }, { kind: 'response', status: 200 }]);
      expect(receiver.received).toHaveLength(2);
      const [a, b] = receiver.received;
      expect(a.body).toBe(b.body);
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'traceparent', 'content-type']) expect([name, a.headers[name]]).toEqual([name, b.headers[name]]);
      expect(a.headers['webhook-id']).toBe('msg_quiet_1');
    });

    it('abandons a request on the service’s thread when the attempt is abandoned', async () => {
      receiver.delayMs = Infinity;
      const controller = new AbortController();
      const sending = sender.send(job(), controller.signal);
      await waitFor(() => receiver.received.length === 1);
      controller.abort(new Error('heartbeat lost'));
      expect(await sending).toMatchObject({ kind: 'sent', response: { kind: 'error', error: 'network', detail: 'abandoned: heartbeat lost' } });
      expect(sender.sent).toEqual({ inline: 1, threads: 0 });
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
