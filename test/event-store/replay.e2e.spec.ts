import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { openDataSource } from '../../src/database/data-source.js';
import type { ExportedEvent } from '../../src/event-store/import.js';
import { ProjectionRebuilder } from '../../src/event-store/projection-rebuilder.js';
import { importEvents, openEventStore } from '../../src/domain.js';
import { issueAggregate } from '../../src/issues/issue.projection.js';
import { projectAggregate } from '../../src/projects/project.projection.js';
import { systemClock } from '../../src/shared/clock.js';
import { userAggregate } from '../../src/users/user.aggregate.js';
import { rebuildThroughApi } from '../support/rebuild.js';
import { startTestApp, tempDir, testDatabaseUrl, type TestApp } from '../support/test-app.js';

interface Fixture {
  description: string;
  events: ExportedEvent[];
  expected: { projects: any[]; issues: any[]; comments: Record<string, any[]>; users: any[] };
}

const folder = 'test/fixtures/streams';
const fixtures = readdirSync(folder).filter((f) => f.endsWith('.json'));

describe.each(fixtures)('replaying %s', (file) => {
  const fixture = JSON.parse(readFileSync(join(folder, file), 'utf8')) as Fixture;
  let t: TestApp;

  beforeAll(async () => {
    const dir = tempDir();
    // load the streams into an empty store and build the read models from them
    const ds = await openDataSource(loadConfig({ DATABASE_URL: await testDatabaseUrl(dir) }, dir).database);
    const store = openEventStore(ds, systemClock);
    expect(await importEvents(store, fixture.events)).toBe(fixture.events.length);
    await new ProjectionRebuilder(store, [userAggregate, projectAggregate, issueAggregate]).rebuild({ requestedBy: 'test' });
    await store.close();
    await ds.destroy();
    t = await startTestApp({ dir });
  });
  afterAll(() => t.close());

  const readModels = async () => ({
    projects: await Promise.all(fixture.expected.projects.map((p) => t.http.get(`/api/projects/${p.id}`).set(t.auth).then((r) => r.body))),
    issues: await Promise.all(fixture.expected.issues.map((i) => t.http.get(`/api/issues/${i.id}`).set(t.auth).then((r) => r.body))),
    comments: Object.fromEntries(
      await Promise.all(Object.keys(fixture.expected.comments).map(async (id) => [id, (await t.http.get(`/api/issues/${id}/comments`).set(t.auth)).body])),
    ),
    users: [(await t.http.get('/api/users/me').set(t.auth)).body],
  });

  it('builds the expected read models from the streams', async () => {
    expect(await readModels()).toEqual(fixture.expected);
  });

  it('rebuilds them to the same result through the API, twice', async () => {
    const first = await rebuildThroughApi(t);
    // the log is the fixture's streams (plus the admin token stored again under a keyed hash on first use)
    const log = (await t.http.get('/api/events?limit=1000').set(t.auth)).body as { type: string }[];
    expect(log.filter((e) => e.type !== 'user.token-rehashed')).toHaveLength(fixture.events.length);
    expect(first).toMatchObject({ state: 'done', phase: 'done', done: log.length, total: log.length, requestedBy: expect.stringMatching(/^admin:\d+$/), durationMs: expect.any(Number), error: null });
    expect(await readModels()).toEqual(fixture.expected);
    expect(await rebuildThroughApi(t)).toMatchObject({ state: 'done' });
    expect(await readModels()).toEqual(fixture.expected);
  });

  it('keeps allocating ids after the highest one in the streams', async () => {
    const project = await t.http.post('/api/projects').set(t.auth).send({ name: 'After replay' }).expect(201);
    expect(project.body.id).toBe(Math.max(...fixture.expected.projects.map((p) => p.id)) + 1);
    const issue = await t.http.post(`/api/projects/${project.body.id}/issues`).set(t.auth).send({ name: 'x', type: 'bb.issue.general', pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] } }).expect(201);
    const taskIds = fixture.expected.issues.flatMap((i) => i.pipeline.stages.flatMap((s: any) => s.tasks.map((k: any) => k.id)));
    expect(issue.body.pipeline.stages[0].tasks[0].id).toBe(Math.max(...taskIds) + 1);
  });
});
