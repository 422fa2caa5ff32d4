import { ChildHerald } from '../support/child-herald.js';
import { caller } from '../support/process-calls.js';
import { tempDir, testDatabaseUrl } from '../support/test-app.js';

const TOKEN = 'durable-answers-admin-token-0123456789';
const call = caller(TOKEN);

/**
 * A 2xx means the command's events are stored: here a real process is killed (SIGKILL: no shutdown
 * hook, nothing flushed) the moment the first of many concurrent commands is answered, and after a
 * restart every command that was answered is there. (A power cut is not a SIGKILL: that the answer
 * also waits for the disk's sync is shown in test/database/sqlite-wal-sync.spec.ts.)
 */
describe('a command answered 2xx survives a crash right after its answer', () => {
  it('keeps every issue whose creation was answered when the process was killed', async () => {
    const herald = new ChildHerald({ DATABASE_URL: await testDatabaseUrl(tempDir('herald-durable-')), HERALD_ADMIN_TOKEN: TOKEN, HERALD_RATE_LIMIT_PER_MINUTE: '0' });
    try {
      await herald.start();
      const project = await call(herald.base, 'POST', '/api/projects', { name: 'Durable' });
      const answered: number[] = [];
      let killing: Promise<void> | null = null;
      const creations = Array.from({ length: 40 }, async (_, i) => {
        try {
          const issue = await call(herald.base, 'POST', `/api/projects/${project.id}/issues`, { name: `durable ${i}`, type: 'bb.issue.general' });
          answered.push(issue.id as number);
          // the first answer kills the process: the others were answered before it, or never
          killing ??= herald.kill();
        } catch {
          // cut off by the kill: no answer, no promise made
        }
      });
      await Promise.all(creations);
      await killing;
      expect(answered.length).toBeGreaterThan(0);

      await herald.start();
      const missing: number[] = [];
      for (const id of answered) {
        const res = await fetch(`${herald.base}/api/issues/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        if (res.status !== 200) missing.push(id);
      }
      expect(missing).toEqual([]);
    } finally {
      await herald.shutdown();
    }
  }, 120_000);
});
