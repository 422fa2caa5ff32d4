import { api, twoStages } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

describe('an issue workflow over HTTP', () => {
  const t = useTestApp();
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(t);
  });

  it('runs an issue from creation to resolution and records every step in its stream', async () => {
    const project = await a.createProject('Payments');
    const issue = await a.createIssue(project.id, { name: 'Add index: users', description: 'CREATE INDEX', pipeline: twoStages });
    expect(issue).toMatchObject({ projectId: project.id, status: 'OPEN', version: 2, creatorId: 2 });
    const [test, prod] = issue.pipeline.stages;
    expect(test.tasks[0].status).toBe('PENDING_APPROVAL');

    await a.task(issue.id, test.tasks[0].id, { status: 'PENDING' });
    await a.task(issue.id, prod.tasks[0].id, { status: 'PENDING' });
    // prod cannot start before test is done
    const blocked = await a.task(issue.id, prod.tasks[0].id, { status: 'RUNNING' }, 409);
    expect(blocked.detail).toMatch(/earlier stage "test"/);
    await a.task(issue.id, test.tasks[0].id, { status: 'RUNNING' });
    const afterTest = await a.task(issue.id, test.tasks[0].id, { status: 'DONE' });
    expect(afterTest.pipeline.stages.map((s: { status: string }) => s.status)).toEqual(['DONE', 'PENDING_APPROVAL']);

    await a.task(issue.id, prod.tasks[0].id, { status: 'RUNNING' });
    await a.task(issue.id, prod.tasks[0].id, { status: 'DONE' });
    const refused = await a.status(issue.id, { status: 'DONE' }, 409);
    expect(refused.detail).toMatch(/db-prod-2/);
    const skipped = await a.task(issue.id, prod.tasks[1].id, { status: 'DONE', skipped: true, skippedReason: 'replica' });
    expect(skipped.pipeline.stages[1].tasks[1]).toMatchObject({ status: 'DONE', skipped: true, skippedReason: 'replica' });

    const comment = await a.comment(issue.id, 'LGTM');
    expect(comment).toMatchObject({ issueId: issue.id, content: 'LGTM', creatorId: 2 });
    await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ assigneeId: 2, name: 'Add index: users (v2)' }).expect(200);
    const resolved = await a.status(issue.id, { status: 'DONE', comment: 'shipped' });
    expect(resolved.status).toBe('DONE');

    const events = await a.get(`/api/issues/${issue.id}/events`);
    expect(events.map((e: { type: string; data: any }) => `${e.type}${e.data.change ? ':' + e.data.change : ''}`)).toEqual([
      'issue.created',
      'issue.stage-status-changed:BEGIN',
      'issue.task-status-changed',
      'issue.task-status-changed',
      'issue.task-status-changed',
      'issue.task-status-changed',
      'issue.stage-status-changed:END',
      'issue.stage-status-changed:BEGIN',
      'issue.task-status-changed',
      'issue.task-status-changed',
      'issue.task-status-changed',
      'issue.stage-status-changed:END',
      'issue.rollout-completed',
      'issue.comment-created',
      'issue.field-updated',
      'issue.field-updated',
      'issue.status-changed',
    ]);
    expect(events.map((e: { version: number }) => e.version)).toEqual(events.map((_: unknown, i: number) => i + 1));
    expect(events[0]).toMatchObject({ streamId: `issue-${issue.id}`, schemaVersion: 1, metadata: { actorId: 2, causationId: null }, occurredAt: '2026-03-01T10:00:00.000Z' });
    expect(typeof events[0].metadata.correlationId).toBe('string');

    const read = await t.http.get(`/api/issues/${issue.id}`).set(t.auth).expect(200);
    expect(read.headers.etag).toBe(`W/"${events.length}"`);
    expect(read.body).toMatchObject({ name: 'Add index: users (v2)', assigneeId: 2, status: 'DONE', version: events.length });
  });

  it('cancels an issue with its running tasks, reopens it, and still takes comments while closed', async () => {
    const project = await a.createProject('Cancel');
    const issue = await a.createIssue(project.id, { pipeline: twoStages });
    const taskId = issue.pipeline.stages[0].tasks[0].id;
    await a.task(issue.id, taskId, { status: 'PENDING' });
    await a.task(issue.id, taskId, { status: 'RUNNING' });
    const canceled = await a.status(issue.id, { status: 'CANCELED' });
    expect(canceled.pipeline.stages[0]).toMatchObject({ status: 'CANCELED', tasks: [{ status: 'CANCELED' }] });
    await a.task(issue.id, taskId, { status: 'PENDING_APPROVAL' }, 409);
    await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ name: 'x' }).expect(409);
    await a.comment(issue.id, 'why canceled?');
    await a.status(issue.id, { status: 'CANCELED' }, 409);
    const reopened = await a.status(issue.id, { status: 'OPEN' });
    expect(reopened.status).toBe('OPEN');
    await a.task(issue.id, taskId, { status: 'PENDING_APPROVAL' });
  });

  it('records nothing for a PATCH that changes nothing', async () => {
    const project = await a.createProject('Noop');
    const issue = await a.createIssue(project.id, { description: 'same' });
    const patched = await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ name: issue.name, description: 'same' }).expect(200);
    expect(patched.body.version).toBe(issue.version);
    expect(await a.get(`/api/issues/${issue.id}/events`)).toHaveLength(1);
  });

  it('lists a project\'s issues newest first, filtered by status, page by page', async () => {
    const project = await a.createProject('Lists');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.createIssue(project.id, { name: `issue ${i}` })).id);
    await a.status(ids[1], { status: 'CANCELED' });
    const first = await a.get(`/api/projects/${project.id}/issues?limit=2`);
    expect(first.items.map((i: { id: number }) => i.id)).toEqual([ids[4], ids[3]]);
    const second = await a.get(`/api/projects/${project.id}/issues?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((i: { id: number }) => i.id)).toEqual([ids[2], ids[1]]);
    const third = await a.get(`/api/projects/${project.id}/issues?limit=2&cursor=${second.nextCursor}`);
    expect(third).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const canceled = await a.get(`/api/projects/${project.id}/issues?status=CANCELED`);
    expect(canceled.items.map((i: { id: number }) => i.id)).toEqual([ids[1]]);
    // a cursor of another list is refused
    const other = await a.createProject('Other');
    await t.http.get(`/api/projects/${other.id}/issues?cursor=${first.nextCursor}`).set(t.auth).expect(400);
  });

  it('lets only a comment\'s author edit it', async () => {
    const project = await a.createProject('Comments');
    const issue = await a.createIssue(project.id);
    const comment = await a.comment(issue.id, 'first');
    const edited = await t.http.patch(`/api/issues/${issue.id}/comments/${comment.id}`).set(t.auth).send({ content: 'edited' }).expect(200);
    expect(edited.body.content).toBe('edited');
    const dev = await a.post('/api/users', { name: 'Dev', email: 'dev@example.com' }, 201);
    // not a member: the issue does not exist for them
    await t.http.patch(`/api/issues/${issue.id}/comments/${comment.id}`).set({ Authorization: `Bearer ${dev.token}` }).send({ content: 'mine now' }).expect(404);
    await t.http.put(`/api/projects/${project.id}/members/${dev.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
    const other = await t.http.patch(`/api/issues/${issue.id}/comments/${comment.id}`).set({ Authorization: `Bearer ${dev.token}` }).send({ content: 'mine now' }).expect(403);
    expect(other.body.detail).toMatch(/author/);
    expect(await a.get(`/api/issues/${issue.id}/comments`)).toEqual([expect.objectContaining({ id: comment.id, content: 'edited' })]);
  });

  it('renames a project, with If-Match', async () => {
    const project = await a.createProject('Old name');
    await t.http.patch(`/api/projects/${project.id}`).set(t.auth).set('If-Match', 'W/"7"').send({ name: 'New' }).expect(412);
    const renamed = await t.http.patch(`/api/projects/${project.id}`).set(t.auth).set('If-Match', 'W/"1"').send({ name: 'New name' }).expect(200);
    expect(renamed.body).toMatchObject({ name: 'New name', version: 2 });
    expect(renamed.headers.etag).toBe('W/"2"');
  });

  it('gives ids that are unique across the workspace, stage and task ids included', async () => {
    const project = await a.createProject('Ids');
    const one = await a.createIssue(project.id, { pipeline: twoStages });
    const two = await a.createIssue(project.id, { pipeline: twoStages });
    const taskIds = [one, two].flatMap((i) => i.pipeline.stages.flatMap((s: { tasks: { id: number }[] }) => s.tasks.map((t) => t.id)));
    const stageIds = [one, two].flatMap((i) => i.pipeline.stages.map((s: { id: number }) => s.id));
    expect(new Set(taskIds).size).toBe(6);
    expect(new Set(stageIds).size).toBe(4);
    expect(two.id).toBe(one.id + 1);
  });
});
