import { rmSync } from 'node:fs';
import { EventStore } from '../../src/event-store/event-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { api } from '../support/api.js';
import { appendRawIssues } from '../support/raw-log.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

/**
 * A replay of a large log runs in the background: the request answers at once, the service
 * keeps answering while the log is read, the progress says how far it is, a dry run reads a
 * bounded part of a big range, and a shutdown mid-replay is picked up where it stood.
 * 120,000 events, written raw (more than a dry run reads at once).
 */
const ISSUES = 1200;
const EVENTS_PER_ISSUE = 100;
const TYPES = ['bb.issue.create', 'bb.issue.comment.create', 'bb.issue.field.update'];
const BACKGROUND = { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true' };
/** Each test waits for conditions (a replay of the whole log, on a busy machine): a generous bound. */
const LONG = 240_000;

describe('replays of a large log, in the background', () => {
  const dir = tempDir();
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let receiver: Receiver;
  let projectId: number;
  let log: { first: number; last: number };

  /** A Slack webhook: its pace (3 messages in 3 s) keeps the sending small while the replay queues a hundred thousand. */
  const slackHook = async (name: string) => (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'SLACK', name, url: receiver.url(`/services/T/B/${name}`), activityTypes: TYPES }, 201)).id as number;
  const progressOf = (hookId: number, replayId: string) => a.get(`/api/projects/${projectId}/webhooks/${hookId}/replays/${replayId}`);
  const queued = async (hookId: number, replayId: string) => {
    for (;;) {
      const progress = await progressOf(hookId, replayId);
      if (progress.state !== 'scanning') return progress;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    receiver.answer({ status: 200, body: 'ok' });
    const building = await startTestApp({ dir, env: LOCAL_WEBHOOK_ENV });
    projectId = (await api(building).createProject('Big')).id;
    const me = await api(building).get('/api/users/me');
    log = await appendRawIssues(building.app.get(EventStore), projectId, me.id, ISSUES, EVENTS_PER_ISSUE);
    await building.close();
    t = await startTestApp({ dir, clock: systemClock, env: BACKGROUND });
    a = api(t);
  }, LONG);
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run of the whole log reads a bounded part and says where to go on from; going on, it reads the rest', async () => {
    const hookId = await slackHook('preview');
    const path = `/api/projects/${projectId}/webhooks/${hookId}/replay`;
    const first = await a.post(path, { from: 'position:1', to: `position:${log.last}`, dryRun: true }, 200);
    expect(first).toMatchObject({ complete: false, fromPosition: 1, toPosition: log.last, next: `position:${first.scannedTo + 1}` });
    expect(first.scannedTo).toBeLessThan(log.last);
    expect(first.items).toHaveLength(100);
    const rest = await a.post(path, { from: first.next, to: `position:${log.last}`, dryRun: true }, 200);
    expect(rest).toMatchObject({ complete: true, next: null, fromPosition: first.scannedTo + 1, scannedTo: log.last });
    // every event of the raw log is an activity of the types asked for
    expect(first.count + rest.count).toBe(ISSUES * EVENTS_PER_ISSUE);
  }, LONG);

  it('answers at once; while it reads the log, the service answers (liveness, commands, the heartbeat) and live activities go first', async () => {
    const hookId = await slackHook('live');
    // the first 40,000 events: many pages, and seconds of reading even on a quiet machine
    const to = log.first + 39_999;
    const started = await t.http.post(`/api/projects/${projectId}/webhooks/${hookId}/replay`).set(t.auth).send({ from: `position:${log.first}`, to: `position:${to}` });
    expect(started.status).toBe(202);
    // it answers before the range is read (what it queued by then is counted already: on PostgreSQL the first pages may be in)
    expect(started.body).toMatchObject({ state: 'scanning', count: expect.any(Number), fromPosition: log.first, toPosition: to, done: false });
    expect(started.headers.location).toBe(`/api/projects/${projectId}/webhooks/${hookId}/replays/${started.body.id}`);
    const store = t.app.get(EventStore);
    const heartbeat = async () => Number((await store.queryOne<{ at: number }>(`SELECT MAX(heartbeat_at) AS at FROM herald_instances`))!.at);
    const seen = { live: 0, scannedTo: new Set<number>(), heartbeats: new Set<number>() };
    const toLive = () => receiver.received.filter((r) => r.path.endsWith('/live'));
    let liveIssue: number | undefined;
    /** Messages the webhook had received when the live activity's delivery was queued. */
    let sentBeforeIt: number | undefined;
    for (let progress = started.body; progress.state === 'scanning'; progress = await progressOf(hookId, started.body.id)) {
      seen.scannedTo.add(progress.scannedTo);
      seen.heartbeats.add(await heartbeat());
      expect((await t.http.get('/health/live')).status).toBe(200);
      seen.live++;
      if (liveIssue === undefined && progress.scannedTo > log.first) {
        const issueId: number = (await a.createIssue(projectId, { name: 'Happening during the replay' })).id;
        liveIssue = issueId;
        // from the moment its delivery is queued (its decision for the webhook names it)
        const deliveryQueued = async () => (await a.get(`/api/issues/${issueId}/webhook-decisions`)).items[0].decisions.some((d: { webhookId: number; deliveryId?: string }) => d.webhookId === hookId && d.deliveryId);
        void (async () => {
          while (!(await deliveryQueued())) await new Promise((resolve) => setTimeout(resolve, 20));
          sentBeforeIt = toLive().length;
        })();
      }
    }
    // it read the log in the background while all of that was answered
    expect(seen.live).toBeGreaterThan(10);
    expect(seen.scannedTo.size).toBeGreaterThan(3);
    expect(seen.heartbeats.size).toBeGreaterThan(1);
    expect(liveIssue).toBeDefined();
    const progress = await queued(hookId, started.body.id);
    expect(progress).toMatchObject({ state: 'queued', scannedTo: to, count: 40_000, error: null });
    // at Slack's pace (3 messages in 3 s) the replay's forty thousand take hours: once queued, the live activity goes
    // next, after at most what was already on its way
    const isLive = (r: { body: string }) => r.body.includes('Happening during the replay');
    while (!receiver.received.some(isLive) || sentBeforeIt === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(toLive().findIndex(isLive) - sentBeforeIt).toBeLessThanOrEqual(3);
  }, LONG);

  it('a shutdown in the middle lets go of the replay; the next start goes on with it, and it queues everything once', async () => {
    const hookId = await slackHook('restart');
    // the first 30,000 events of the log
    const to = log.first + 29_999;
    const { id } = await a.post(`/api/projects/${projectId}/webhooks/${hookId}/replay`, { from: `position:${log.first}`, to: `position:${to}` }, 202);
    let progress = await progressOf(hookId, id);
    while (progress.scannedTo < log.first + 1000) progress = await progressOf(hookId, id);
    expect(progress.state).toBe('scanning');
    await t.close();
    t = await startTestApp({ dir, clock: systemClock, env: BACKGROUND });
    a = api(t);
    progress = await queued(hookId, id);
    expect(progress).toMatchObject({ state: 'queued', scannedTo: to, count: 30_000, error: null });
    const statuses = Object.values(progress.statuses as Record<string, number>).reduce((sum, n) => sum + n, 0);
    expect(statuses).toBe(30_000);
  }, LONG);
});
