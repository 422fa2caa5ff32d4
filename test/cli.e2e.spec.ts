import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { migrations } from '../src/database/migrations/index.js';
import { api } from './support/api.js';
import { heraldCli as herald } from './support/process-calls.js';
import { startTestApp, tempDir, testDatabaseUrl } from './support/test-app.js';

describe('the herald command line (built binary)', () => {
  it('migrates, exports, imports into another store, refuses a second import, and rebuilds with progress', async () => {
    // the stores share one secret key: tokens and webhook credentials are keyed and sealed with it
    const key = { HERALD_SECRET_KEY: Buffer.alloc(32, 3).toString('base64') };
    const source = tempDir();
    const t = await startTestApp({ dir: source, env: key });
    const a = api(t);
    const project = await a.createProject('Exported');
    const issue = await a.createIssue(project.id, { name: 'carried over' });
    await a.comment(issue.id, 'with a comment');
    await t.close();
    const sourceEnv = { DATABASE_URL: await testDatabaseUrl(source) };

    const stream = herald(['events', 'export', '--stream', `issue-${issue.id}`], sourceEnv);
    expect(stream.status).toBe(0);
    expect(stream.stdout.trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['issue.created', 'issue.comment-created']);

    const all = herald(['events', 'export', '--after', '0'], sourceEnv);
    expect(all.status).toBe(0);
    const file = join(tempDir(), 'log.jsonl');
    writeFileSync(file, all.stdout);

    const target = tempDir();
    const targetEnv = { DATABASE_URL: await testDatabaseUrl(target) };
    const migrated = herald(['migrate'], targetEnv);
    const latest = migrations[migrations.length - 1].name;
    expect(migrated.stdout).toMatch(new RegExp(`is at migration ${latest} \\(${migrations.length} applied\\)`));
    const imported = herald(['events', 'import', file], targetEnv);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`imported ${all.stdout.trim().split('\n').length} events`));
    expect(imported.stderr).toMatch(/importing: \d+\/\d+ events/); // plain progress lines when not on a terminal
    const again = herald(['events', 'import', file], targetEnv);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/refused: stream user-1 is at version \d+, expected 0; nothing was imported/);

    const rebuilt = herald(['rebuild-projections'], targetEnv);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt the read models from \d+ events/);
    // the imported store serves the same issue
    const u = await startTestApp({ dir: target, env: key });
    try {
      expect((await api(u).get(`/api/issues/${issue.id}/comments`)).map((c: { content: string }) => c.content)).toEqual(['with a comment']);
    } finally {
      await u.close();
    }
  });

  it('runs a development receiver that verifies signatures and answers {"code":0}', async () => {
    const secret = `whsec_${Buffer.from('receiver-secret-0123456789abcdef').toString('base64')}`;
    const port = 19500 + Math.floor(Math.random() * 400);
    const child = spawn(process.execPath, ['dist/src/cli.js', 'receiver', '--port', String(port), '--secret', secret], { stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    child.stdout.on('data', (c: Buffer) => (printed += c));
    try {
      await new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => String(c).includes('receiving') && resolve()));
      const body = JSON.stringify({ level: 'INFO', title: 'hello' });
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
      const signature = new Webhook(secret).sign('msg_1', new Date(Number(headers['webhook-timestamp']) * 1000), body);
      const good = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { ...headers, 'webhook-signature': signature, 'content-type': 'application/json' }, body });
      expect(await good.json()).toEqual({ code: 0, message: '' });
      const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { ...headers, 'webhook-signature': 'v1,AAAA', 'content-type': 'application/json' }, body });
      expect(bad.status).toBe(400);
      // it printed both, the second marked invalid
      const deadline = Date.now() + 2000;
      while (printed.trim().split('\n').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const lines = printed.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual([
        { id: 'msg_1', signature: 'valid', body: { level: 'INFO', title: 'hello' } },
        { id: 'msg_1', signature: expect.stringMatching(/^INVALID/), body: { level: 'INFO', title: 'hello' } },
      ]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
