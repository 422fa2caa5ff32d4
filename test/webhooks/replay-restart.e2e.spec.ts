import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { EventStore } from '../../src/event-store/event-store.js';
import { api } from '../support/api.js';
import { ChildHerald } from '../support/child-herald.js';
import { caller, until } from '../support/process-calls.js';
import { appendRawIssues } from '../support/raw-log.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { ADMIN_TOKEN, startTestApp, tempDir, testDatabaseUrl } from '../support/test-app.js';

const call = caller(ADMIN_TOKEN);

/** A real process killed with SIGKILL in the middle of a replay: the next start goes on with it, and it is never left half-done. */
describe('a replay across a crash', () => {
  const dir = tempDir('herald-replay-crash-');
  const env = { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true', HERALD_SECRET_KEY: randomBytes(32).toString('base64') };
  let receiver: Receiver;
  afterAll(async () => {
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes on where it stood after the restart, and queues every delivery once', async () => {
    receiver = await new Receiver().start();
    receiver.answer({ status: 200, body: 'ok' });
    // 40,000 events, written raw; a Slack webhook keeps the sending small (3 messages in 3 s)
    const building = await startTestApp({ dir, env: { ...env, HERALD_BACKGROUND_WORKERS: 'false' } });
    const projectId = (await api(building).createProject('Crash')).id;
    const hook = await api(building).post(`/api/projects/${projectId}/webhooks`, { type: 'SLACK', name: 'room', url: receiver.url('/services/T/B/x'), activityTypes: ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update'] }, 201);
    const me = await api(building).get('/api/users/me');
    const log = await appendRawIssues(building.app.get(EventStore), projectId, me.id, 400, 100);
    await building.close();

    const herald = new ChildHerald({ ...env, DATABASE_URL: await testDatabaseUrl(dir), HERALD_ADMIN_TOKEN: ADMIN_TOKEN });
    try {
      await herald.start();
      const path = `/api/projects/${projectId}/webhooks/${hook.id}`;
      const { id } = await call(herald.base, 'POST', `${path}/replay`, { from: `position:${log.first}`, to: `position:${log.last}` });
      const progress = () => call(herald.base, 'GET', `${path}/replays/${id}`);
      await until(async () => (await progress()).scannedTo > log.first + 500, 'the replay to read some of the log');
      await herald.kill();

      await herald.start();
      // the dead process's replay is taken on once its heartbeat is found stale (and at most a few seconds later)
      await until(async () => (await progress()).state !== 'scanning', 'the replay to go on and queue everything', 120_000);
      const after = await progress();
      expect(after).toMatchObject({ state: 'queued', scannedTo: log.last, count: log.last - log.first + 1, error: null });
      expect(Object.values(after.statuses as Record<string, number>).reduce((sum, n) => sum + n, 0)).toBe(after.count);
    } finally {
      await herald.shutdown();
    }
  }, 240_000);
});
