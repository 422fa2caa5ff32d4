import { rmSync } from 'node:fs';
import { jest } from '@jest/globals';
import { systemClock } from '../../src/shared/clock.js';
import { DeliveryQueue } from '../../src/webhooks/delivery/queue.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/**
 * A webhook whose receiver's pace is full is not claimed for again until the pace has room, however much
 * comes due meanwhile: claimed anyway, a batch of what was due then took the slot from what came due at it
 * (a live activity went behind a replay's deliveries on a busy machine), and each claim was work for nothing.
 */
describe('a paced webhook while deliveries keep coming due (background dispatch, real time)', () => {
  const dir = tempDir('herald-pace-claims-');
  let t: TestApp;
  let receiver: Receiver;
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is claimed about once per message its pace lets go, not once per delivery queued', async () => {
    receiver = await new Receiver().start();
    receiver.answer({ status: 200, body: 'ok' });
    t = await startTestApp({ dir, clock: systemClock, env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true' } });
    const a = api(t);
    const projectId = (await a.createProject('Paced')).id as number;
    // Slack: 3 messages in 3 s (docs/fidelity.md), one webhook of the project
    const hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'SLACK', name: 'room', url: receiver.url('/services/T/B/paced'), activityTypes: ['bb.issue.comment.create'] }, 201)).id as number;
    const issue = await a.createIssue(projectId, { name: 'Busy' });
    const queue = t.app.get(DeliveryQueue);
    const claim = jest.spyOn(queue, 'claim');
    try {
      // comments keep coming until the pace has let 6 messages go: far more deliveries than it lets go
      let comments = 0;
      while (receiver.received.length < 6) {
        await a.comment(issue.id, `comment ${comments++}`);
      }
      const claims = claim.mock.calls.filter(([webhookId]) => webhookId === hookId).length;
      expect(comments).toBeGreaterThan(30);
      // one claim per message gone, one more per wake-up at the pace's room, a few for the first burst
      expect(claims).toBeLessThanOrEqual(2 * receiver.received.length + 4);
    } finally {
      claim.mockRestore();
    }
  }, 60_000);
});
