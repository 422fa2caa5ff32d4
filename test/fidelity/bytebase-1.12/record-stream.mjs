#!/usr/bin/env node
/*
 * Records stream.json: the events Herald itself writes when its REST API is driven through
 * every activity of the seed (all six types, the test message's project), with hostile text in
 * every name, a multi-line comment and a 5,000-character failure detail. The oracle maps these
 * events to Herald's activities and to what Bytebase 1.12 would post for them (cases.ts).
 *
 * Usage (after `npm run build`): node test/fidelity/bytebase-1.12/record-stream.mjs
 * It starts the built service on a new SQLite file in a temporary folder, and exports its log.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const here = 'test/fidelity/bytebase-1.12';
const dir = mkdtempSync(join(tmpdir(), 'herald-oracle-'));
const token = 'oracle-admin-token-0123456789';
const env = { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'error', DATABASE_URL: `sqlite:${join(dir, 'herald.sqlite')}`, HERALD_ADMIN_TOKEN: token, HERALD_BACKGROUND_WORKERS: 'false' };

/** The hostile texts: markup of every chat service, scripts without Latin letters, quotes. */
const HOSTILE_NAME = '<b>x</b> *y* @all 索引 & "q"';
const longDetail = () => {
  const line = 'ERROR 1062 (23000): Duplicate entry \'a@example.com\' for key \'idx_users_email\' <!channel> 索引失败 🚀\n';
  return Array.from(line.repeat(60)).slice(0, 5000).join('');
};

const child = spawn(process.execPath, [resolve('dist/src/main.js')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
const port = await new Promise((resolvePort, reject) => {
  child.stdout.on('data', (chunk) => {
    output += chunk;
    const match = /listening on\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (match) resolvePort(Number(match[1]));
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  child.once('exit', (code) => reject(new Error(`Herald exited with ${code}:\n${output}`)));
});

async function call(method, path, body) {
  const response = await fetch(`http://127.0.0.1:${port}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

try {
  const bob = await call('POST', '/users', { name: 'Bob *Ops* <@here>', email: 'bob@example.com' });
  const fang = await call('POST', '/users', { name: '王芳', email: 'fang@example.com' });
  const project = await call('POST', '/projects', { name: 'Demo & <Ops> 索引' });
  for (const user of [bob, fang]) await call('PUT', `/projects/${project.id}/members/${user.id}`, { role: 'DEVELOPER' });

  // issue 1: every activity type, named in hostile text
  const issue = await call('POST', `/projects/${project.id}/issues`, {
    name: HOSTILE_NAME,
    type: 'bb.issue.database.schema.update',
    description: 'CREATE INDEX idx_users_email ON users(email);\n-- <!channel> *bold* _it_ 索引 & "q"',
    pipeline: { stages: [{ name: 'test', tasks: [{ name: 'db-test' }] }, { name: 'prod 生产', tasks: [{ name: 'db-prod-1' }, { name: 'db-prod-2' }] }] },
  });
  const [dbTest, dbProd1, dbProd2] = issue.pipeline.stages.flatMap((s) => s.tasks.map((t) => t.id));
  const task = (id, body) => call('POST', `/issues/${issue.id}/tasks/${id}/status`, body);
  await call('POST', `/issues/${issue.id}/comments`, { content: 'LGTM <@here> & <at id=all></at>\nsecond line *bold* _it_\n> quoted 索引 "q"' });
  await call('PATCH', `/issues/${issue.id}`, { assigneeId: bob.id });
  await call('PATCH', `/issues/${issue.id}`, { assigneeId: fang.id });
  await call('PATCH', `/issues/${issue.id}`, { assigneeId: null });
  await task(dbTest, { status: 'PENDING' });
  await task(dbTest, { status: 'RUNNING' });
  await task(dbTest, { status: 'DONE', comment: 'applied in 1.2 s' });
  await task(dbProd1, { status: 'PENDING' });
  await task(dbProd1, { status: 'RUNNING' });
  await task(dbProd1, { status: 'FAILED', comment: longDetail() });
  await task(dbProd2, { status: 'DONE', skipped: true, skippedReason: 'applied with db-prod-1 <!here>' });
  await task(dbProd1, { status: 'PENDING_APPROVAL' });
  await task(dbProd1, { status: 'PENDING' });
  await task(dbProd1, { status: 'RUNNING' });
  await task(dbProd1, { status: 'CANCELED', comment: 'maintenance window closed\nretry tonight' });
  await call('POST', `/issues/${issue.id}/status`, { status: 'CANCELED', comment: 'on hold <!channel>' });
  await call('POST', `/issues/${issue.id}/status`, { status: 'OPEN' });
  await call('PATCH', `/issues/${issue.id}`, { name: 'Добавить индекс', description: 'Второе описание\nsecond line <b>b</b>' });
  await task(dbProd1, { status: 'DONE', skipped: true, skippedReason: 'applied by hand' });
  await call('POST', `/issues/${issue.id}/status`, { status: 'DONE', comment: 'shipped 🚀' });

  // issue 2: a name in Japanese alone, canceled at once
  const other = await call('POST', `/projects/${project.id}/issues`, { name: 'インデックスを追加', type: 'bb.issue.general' });
  await call('POST', `/issues/${other.id}/status`, { status: 'CANCELED' });

  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
  const lines = execFileSync(process.execPath, [resolve('dist/src/cli.js'), 'events', 'export', '--after', '0'], { cwd: dir, env, encoding: 'utf8' });
  const events = lines
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    // the tokens' hashes are of no use here
    .filter((e) => e.type !== 'user.token-issued');
  const description =
    'Recorded by record-stream.mjs over Herald’s REST API: one project and three users with hostile names; an issue named in hostile text taken through every seed activity (comment of three lines, assignee set, changed and removed, tasks approved, run, done, failed with a 5,000-character detail, skipped, retried, canceled, the issue canceled, reopened, renamed in Cyrillic, resolved); an issue named in Japanese alone, canceled.';
  writeFileSync(join(here, 'stream.json'), `${JSON.stringify({ description, events }, null, 2)}\n`);
  console.log(`${events.length} events written to ${join(here, 'stream.json')}`);
} finally {
  if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
