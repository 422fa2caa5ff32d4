import { AggregateStore } from '../../src/event-store/aggregate-store.js';
import { EventStore } from '../../src/event-store/event-store.js';
import type { RebuildStatus } from '../../src/event-store/rebuild-record.js';
import { AGGREGATES } from '../../src/domain.js';
import type { IssueEvent } from '../../src/issues/issue.events.js';
import { issueAggregate } from '../../src/issues/issue.projection.js';
import { api } from '../support/api.js';
import { readModelRows, referenceRebuild } from '../support/reference-rebuild.js';
import { rebuildThroughApi } from '../support/rebuild.js';
import { testEngine, useTestApp } from '../support/test-app.js';

const meta = { actorId: 2, correlationId: 'grown' };

/** `count` events on an issue, 100 to a transaction: comments (rows of their own) and description changes. */
async function grow(store: EventStore, issueId: number, projectId: number, firstComment: number, count: number): Promise<void> {
  const issues = new AggregateStore(issueAggregate, store);
  for (let done = 0; done < count; done += 100) {
    await issues.update(issueId, { metadata: meta }, (s) =>
      Array.from({ length: Math.min(100, count - done) }, (_, k): IssueEvent =>
        k % 2 === 0
          ? { type: 'issue.comment-created', schemaVersion: 1, data: { issueId, projectId, commentId: firstComment + done + k, content: `comment ${done + k}` } }
          : { type: 'issue.field-updated', schemaVersion: 2, data: { issueId, projectId, field: 'description', from: k === 1 ? s.description : `d${done + k - 2}`, to: `d${done + k}` } },
      ),
    );
  }
}

/** The first test writes 20,000 events and rebuilds them twice (through the service, and the reference): on a busy machine, minutes. */
const LONG = 240_000;

describe('a rebuild of the read models through the running service', () => {
  const t = useTestApp();

  it('keeps the service answering while it runs, loses none of the commands taken meanwhile, and ends as the old one-transaction rebuild', async () => {
    const store = t.app.get(EventStore);
    const a = api(t);
    const project = await a.createProject('Rebuilt');
    // a log big enough to take a while: 40 issues × 500 events
    for (let i = 0; i < 40; i++) {
      const issue = await a.createIssue(project.id);
      await grow(store, issue.id, project.id, 1_000_000 + i * 1000, 500);
    }
    const issue = await a.createIssue(project.id);
    const inline = await readModelRows(store, AGGREGATES);

    const started = (await t.http.post('/api/admin/projections/rebuild').set(t.auth).expect(202)).body as RebuildStatus;
    expect(started).toMatchObject({ state: 'running', requestedBy: expect.stringMatching(/^admin:\d+$/) });
    let status = started;
    let answeredWhileRunning = 0;
    let comments = 0;
    const running = async () => {
      status = (await t.http.get('/api/admin/projections/rebuild').set(t.auth).expect(200)).body as RebuildStatus;
      return status.state === 'running';
    };
    while (await running()) {
      // a command and a liveness probe, both answered between two looks that found it running
      await a.comment(issue.id, `during the rebuild ${comments++}`);
      await t.http.get('/health/live').expect(200);
      if (await running()) answeredWhileRunning++;
    }
    expect(status).toMatchObject({ id: started.id, state: 'done', error: null });
    expect(answeredWhileRunning).toBeGreaterThanOrEqual(3);
    expect(comments).toBeGreaterThanOrEqual(3);

    const rebuilt = await readModelRows(store, AGGREGATES);
    // every comment taken during the rebuild is in the new read models
    const listed = (await a.get(`/api/issues/${issue.id}/comments`)) as { content: string }[];
    expect(listed.map((c) => c.content)).toEqual(Array.from({ length: comments }, (_, i) => `during the rebuild ${i}`));
    // the rows are those of the rebuild that held the log in one transaction, over the same log
    await referenceRebuild(store, AGGREGATES);
    expect(rebuilt).toEqual(await readModelRows(store, AGGREGATES));
    // and, before the commands taken meanwhile, those the appends had written
    expect(Object.values(inline).flat().length).toBeGreaterThan(10_000);
  }, LONG);

  it('leaves the read-model tables as the migrations made them, and nothing of its shadows', async () => {
    const store = t.app.get(EventStore);
    const schema = async () =>
      testEngine() === 'postgres'
        ? {
            tables: (await store.query<{ n: string }>(`SELECT tablename AS n FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)).map((r) => r.n),
            indexes: (await store.query<{ n: string; d: string }>(`SELECT indexname AS n, indexdef AS d FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`)).map((r) => `${r.n}: ${r.d}`),
            constraints: (await store.query<{ n: string }>(`SELECT conrelid::regclass::text || '.' || conname AS n FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1`)).map((r) => r.n),
          }
        : {
            tables: (await store.query<{ n: string; s: string }>(`SELECT name AS n, sql AS s FROM sqlite_master WHERE type = 'table' ORDER BY 1`)).map((r) => `${r.n}: ${r.s.replace(/^CREATE TABLE "?\w+"?/, '')}`),
            // SQLite cannot rename an index: each takes the other of its two names at each rebuild
            indexes: (await store.query<{ n: string; s: string }>(`SELECT name AS n, sql AS s FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1`)).map(
              (r) => `${r.n.replace(/__b$/, '')}: ${r.s.replace(/INDEX \w+ ON "?(\w+)"?/, 'INDEX ON $1')}`,
            ),
          };
    const before = await schema();
    expect(await rebuildThroughApi(t)).toMatchObject({ state: 'done' });
    expect(await schema()).toEqual(before);
    expect(await rebuildThroughApi(t)).toMatchObject({ state: 'done' });
    expect(await schema()).toEqual(before);
  });

  it('refuses a second rebuild while one runs, saying which runs', async () => {
    const first = (await t.http.post('/api/admin/projections/rebuild').set(t.auth).expect(202)).body as RebuildStatus;
    const second = await t.http.post('/api/admin/projections/rebuild').set(t.auth);
    if (second.status === 409) {
      expect(second.body).toMatchObject({ type: 'urn:herald:problem:conflict', detail: expect.stringContaining(`a rebuild of the read models is running (${first.id}`) });
    } else {
      // it had ended already: a log this small rebuilds in moments
      expect(second.status).toBe(202);
    }
  });
});
