import { EventStore } from '../../src/event-store/event-store.js';
import { encodeCursor } from '../../src/shared/pagination.js';
import { api } from '../support/api.js';
import { appendRawIssues } from '../support/raw-log.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { useTestApp } from '../support/test-app.js';

/**
 * An issue of 60,000 events, written raw: a page of its decisions at the end of its stream folds
 * all of it first. On SQLite (better-sqlite3 is synchronous) nothing else would give the loop a
 * turn; on PostgreSQL the rows arrive over a socket in many turns anyway, so the count of turns
 * tells nothing there: this suite is SQLite's only (its name is no *.e2e.spec.ts).
 */
describe('the decisions of a very long issue', () => {
  const t = useTestApp({ env: LOCAL_WEBHOOK_ENV });
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
  });
  afterAll(() => receiver.stop());

  it('are computed in slices: the loop gets many turns while the last page is folded and decided', async () => {
    const a = api(t);
    const projectId = (await a.createProject('Long')).id;
    const hook = await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'h', url: receiver.url(), activityTypes: ['bb.issue.comment.create'], filter: 'description.contains("7")' }, 201);
    const me = await a.get('/api/users/me');
    const { first } = await appendRawIssues(t.app.get(EventStore), projectId, me.id, 1, 60_000);
    const issueId = Number((await t.app.get(EventStore).readAll(first - 1, 1))[0].streamId.split('-')[1]);
    // turns of the loop while the request is answered: a chain of setImmediate callbacks, counting
    let turns = 0;
    let answered = false;
    const tick = () => {
      turns++;
      if (!answered) setImmediate(tick);
    };
    setImmediate(tick);
    const page = await a.get(`/api/issues/${issueId}/webhook-decisions?limit=50&cursor=${encodeCursor('decisions', 59_950)}`);
    answered = true;
    expect(page.items).toHaveLength(50);
    expect(page.items[49].position).toBe(first + 59_999);
    expect(page.nextCursor).toBeNull();
    expect(page.items.flatMap((i: { decisions: { webhookId: number }[] }) => i.decisions.map((d) => d.webhookId))).toContain(hook.id);
    // read and folded a page of 1,000 events at a time, a turn after each (60 pages); read in one go, a handful of turns
    expect(turns).toBeGreaterThanOrEqual(60);
  }, 120_000);
});
