import { rmSync } from 'node:fs';
import { api, twoStages } from './support/api.js';
import { startTestApp, tempDir } from './support/test-app.js';

describe('persistence', () => {
  it('finds everything again after a restart on the same file, and keeps allocating after the last ids', async () => {
    const dir = tempDir();
    const first = await startTestApp({ dir });
    const a1 = api(first);
    const project = await a1.createProject('Durable');
    const issue = await a1.createIssue(project.id, { pipeline: twoStages });
    await a1.task(issue.id, issue.pipeline.stages[0].tasks[0].id, { status: 'PENDING' });
    await a1.comment(issue.id, 'before restart');
    const before = await a1.get(`/api/issues/${issue.id}`);
    const log = await a1.get('/api/events?limit=1000');
    await first.close();

    const second = await startTestApp({ dir });
    try {
      const a2 = api(second);
      expect(await a2.get(`/api/issues/${issue.id}`)).toEqual(before);
      expect(await a2.get('/api/events?limit=1000')).toEqual(log);
      expect(await a2.get(`/api/issues/${issue.id}/comments`)).toEqual([expect.objectContaining({ content: 'before restart' })]);
      // the admin was not created twice, and the token still works
      expect((await a2.get('/api/users/me')).id).toBe(2);
      const next = await a2.createIssue(project.id, { pipeline: twoStages });
      expect(next.id).toBe(issue.id + 1);
      expect(next.pipeline.stages[0].tasks[0].id).toBe(issue.pipeline.stages[1].tasks[1].id + 1);
      const after = await a2.task(issue.id, issue.pipeline.stages[0].tasks[0].id, { status: 'RUNNING' });
      expect(after.version).toBe(before.version + 1);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
