import { rmSync } from 'node:fs';
import { EventStore } from '../../src/event-store/event-store.js';
import { api } from '../support/api.js';
import { startTestApp, tempDir } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'aged', causationId: null } };

describe('the start-up check of the event log', () => {
  it('refuses to start on a log holding an event that fails its schema, naming the first one', async () => {
    const dir = tempDir();
    const first = await startTestApp({ dir });
    const a = api(first);
    const project = await a.createProject('Checked');
    const issue = await a.createIssue(project.id);
    // written past the deciders (they refuse such events): a comment whose content is a number, then an unknown type
    const [bad] = await first.app.get(EventStore).transact((tx) =>
      tx.append(`issue-${issue.id}`, 1, [
        { type: 'issue.comment-created', schemaVersion: 1, data: { issueId: issue.id, projectId: project.id, commentId: 9, content: 42 } },
        { type: 'issue.teleported', schemaVersion: 1, data: {} },
      ], meta),
    );
    await first.close();
    try {
      await expect(startTestApp({ dir })).rejects.toThrow(
        `the event log holds an event that does not match its schema: position ${bad.position} (stream issue-${issue.id}, version 2, issue.comment-created schema version 1): data.content must be a string, not number`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
