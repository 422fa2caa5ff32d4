import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { EventStore } from '../../src/event-store/event-store.js';
import { api } from '../support/api.js';
import { startTestApp, tempDir, type TestApp } from '../support/test-app.js';

const meta = { metadata: { actorId: 2, correlationId: 'aged', causationId: null } };

interface CheckLine {
  checked: number;
  from: string;
  reason: string;
}

/** A start of the service on `dir`, with what its start-up check said it judged (its log line). */
async function start(dir: string): Promise<{ t: TestApp; check: CheckLine }> {
  const lines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const t = await startTestApp({ dir, env: { LOG_LEVEL: 'info' }, logStream });
  const check = lines.find((line) => line.msg === 'the event log matches its schemas') as CheckLine | undefined;
  if (!check) throw new Error(`no start-up check in the log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  return { t, check };
}

/** How many events the log holds (as an admin reads it). */
const logLength = async (t: TestApp) => ((await t.http.get('/api/events?limit=1000').set(t.auth).expect(200)).body as unknown[]).length;

/** Appends through the API: a project, an issue and `comments` comments. */
async function work(t: TestApp, comments: number): Promise<void> {
  const a = api(t);
  const project = await a.createProject(`Checked ${Date.now()}`);
  const issue = await a.createIssue(project.id);
  for (let i = 0; i < comments; i++) await a.comment(issue.id, `comment ${i}`);
}

/** An event written past every check (the deciders refuse such events): raw SQL into the log. */
async function insertRaw(store: EventStore, streamId: string, version: number, type: string, data: unknown): Promise<number> {
  await store.transact((tx) =>
    tx.exec([
      {
        sql: `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)`,
        params: [`raw-${streamId}-${version}`, streamId, version, type, JSON.stringify(data), JSON.stringify(meta.metadata), '2026-03-01T10:00:00.000Z'],
      },
    ]),
  );
  return (await store.queryOne<{ position: number }>(`SELECT position FROM events WHERE event_id = ?`, [`raw-${streamId}-${version}`]))!.position;
}

describe('the start-up check of the event log', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('judges the whole log once, then at each start only the events appended since the last', async () => {
    let { t, check } = await start(dir);
    // a new database: nothing to judge yet (the admin is created after the check)
    expect(check).toMatchObject({ checked: 0, from: 'the start', reason: 'first check' });
    await work(t, 5);
    const first = await logLength(t);
    await t.close();

    ({ t, check } = await start(dir));
    expect(check).toMatchObject({ checked: first, from: 'the start', reason: 'first check' });
    await work(t, 3);
    const second = await logLength(t);
    await t.close();

    ({ t, check } = await start(dir));
    expect(check).toMatchObject({ checked: second - first, from: expect.stringMatching(/^position \d+$/), reason: 'remembered' });
    await t.close();

    // nothing appended since: nothing to judge, however long the log
    ({ t, check } = await start(dir));
    expect(check).toMatchObject({ checked: 0, reason: 'remembered' });
    await t.close();
  });

  it('judges the whole log again under schemas or upcasters of another release, or when the log is not the one it judged', async () => {
    let { t } = await start(dir);
    await work(t, 4);
    await t.close();
    let check: CheckLine;
    ({ t, check } = await start(dir));
    const whole = await logLength(t);
    expect(check.checked).toBe(whole);
    // what an earlier release remembered: judged by other schemas (their fingerprint), so not this release's
    await t.app.get(EventStore).transact((tx) => tx.exec([{ sql: `UPDATE log_checks SET fingerprint = 'an-earlier-release'`, params: [] }]));
    await t.close();

    ({ t, check } = await start(dir));
    expect(check).toMatchObject({ checked: whole, from: 'the start', reason: 'schemas or upcasters changed' });
    // the event it remembers is not where it was (a log imported into another database that kept this table)
    await t.app.get(EventStore).transact((tx) => tx.exec([{ sql: `UPDATE log_checks SET event_id = 'another-log'`, params: [] }]));
    await t.close();

    ({ t, check } = await start(dir));
    expect(check).toMatchObject({ checked: whole, from: 'the start', reason: 'the log is not the one checked' });
    await t.close();
  });

  it('refuses to start on an event appended after the remembered point that fails its schema, naming it', async () => {
    const { t } = await start(dir);
    const a = api(t);
    const project = await a.createProject('Checked');
    const issue = await a.createIssue(project.id);
    await t.close();
    // judged once: the next start remembers where it stopped
    const again = await start(dir);
    expect(again.check.checked).toBeGreaterThan(0);
    // past the deciders: a comment whose content is a number, then an event type no reader knows
    const store = again.t.app.get(EventStore);
    const bad = await insertRaw(store, `issue-${issue.id}`, 2, 'issue.comment-created', { issueId: issue.id, projectId: project.id, commentId: 9, content: 42 });
    await insertRaw(store, `issue-${issue.id}`, 3, 'issue.teleported', {});
    await again.t.close();

    await expect(startTestApp({ dir })).rejects.toThrow(
      `the event log holds an event that does not match its schema: position ${bad} (stream issue-${issue.id}, version 2, issue.comment-created schema version 1): data.content must be a string, not number`,
    );
    // and again: what came before it was remembered, the event itself never is
    await expect(startTestApp({ dir })).rejects.toThrow(`position ${bad} (stream issue-${issue.id}`);
  });
});

