/**
 * A big log for the replay benchmarks, built fast (a million events in about 20-60 s on the
 * bench machine): one project made through the API of the service started in-process (which
 * also migrates the new file), then its issues' events written by raw inserts into the events
 * table with the read-model rows and id sequences their commands would have left, each issue's
 * events decided by the issue decider itself, so their shapes are the service's own. The
 * webhook subscription's checkpoint is moved past them. Self-contained: a SQLite file path in,
 * nothing else needed.
 */
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { openSqlite, type SqliteStatement } from '../src/database/sqlite-driver.js';
import { streamIdOf } from '../src/event-store/aggregate-store.js';
import { uuidv7 } from '../src/event-store/event-id.js';
import type { Evolving, RecordedEvent, SqlWrite } from '../src/event-store/event.js';
import { decideIssue, type IssueCommand } from '../src/issues/issue.decider.js';
import type { IssueEvent } from '../src/issues/issue.events.js';
import { issueAggregate } from '../src/issues/issue.projection.js';
import { initialIssueState, type IssueState } from '../src/issues/issue.state.js';

export interface ReplayLogOptions {
  issues: number;
  eventsPerIssue: number;
  /** Issues worked on at once: their events interleave in the log (a realistic working set). */
  activeIssues?: number;
}

export interface ReplayLog {
  projectId: number;
  events: number;
  seconds: number;
}

const START = Date.parse('2025-01-01T00:00:00Z');

/** Builds the log in a new SQLite file at `path`; the service then starts on it with `token` as its admin token. */
export async function buildReplayLog(path: string, token: string, options: ReplayLogOptions): Promise<ReplayLog> {
  const started = performance.now();
  // the schema, the admin user and one project, as the service makes them
  const env = { DATABASE_URL: `sqlite:${path}`, HERALD_ADMIN_TOKEN: token, LOG_LEVEL: 'error', HERALD_BACKGROUND_WORKERS: 'false', HERALD_RATE_LIMIT_PER_MINUTE: '0' };
  const { app } = await createApp(loadConfig(env));
  const created = await app.getHttpAdapter().getInstance().inject({
    method: 'POST',
    url: '/api/projects',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'Replayed' }),
  });
  const projectId = (created.json() as { id: number }).id;
  await app.close();

  const db = openSqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const actorId = (db.prepare(`SELECT MIN(id) AS id FROM rm_users`).get() as { id: number }).id;
  const sequence = (name: string) => (db.prepare(`SELECT value FROM id_sequences WHERE name = ?`).get(name) as { value: number } | undefined)?.value ?? 0;
  const ids = { issue: sequence('issue'), stage: sequence('stage'), task: sequence('task'), comment: sequence('comment') };
  const insert = db.prepare(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const statements = new Map<string, SqliteStatement>();
  const run = (writes: SqlWrite[]) => {
    for (const { sql, params } of writes) {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = db.prepare(sql)));
      statement.run(...params);
    }
  };
  const active = options.activeIssues ?? 1000;
  let clock = START;
  let events = 0;
  for (let first = 0; first < options.issues; first += active) {
    const group = Array.from({ length: Math.min(active, options.issues - first) }, (_, i) => issueScript(++ids.issue, projectId, first + i, options.eventsPerIssue, ids, actorId));
    db.transaction(() => {
      // round-robin over the group: the issues' events interleave as concurrent work does
      for (let k = 0; k < options.eventsPerIssue; k++) {
        for (const issue of group) {
          const event = issue.events[k];
          const occurredAt = new Date((clock += 1000)).toISOString();
          const metadata = { actorId, correlationId: `bench-${issue.id}-${k}`, causationId: null };
          const eventId = uuidv7(clock);
          const streamId = streamIdOf(issueAggregate.kind, issue.id);
          const info = insert.run(eventId, streamId, k + 1, event.type, event.schemaVersion, JSON.stringify(event.data), JSON.stringify(metadata), occurredAt);
          const recorded = { position: Number(info.lastInsertRowid), eventId, streamId, version: k + 1, type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata, occurredAt } as RecordedEvent<IssueEvent>;
          issue.state = issueAggregate.evolve(issue.state, recorded as unknown as Evolving<IssueEvent>);
          for (const projection of issueAggregate.projections) run(projection.fromEvent?.(recorded) ?? []);
          events++;
        }
      }
      for (const issue of group) for (const projection of issueAggregate.projections) run(projection.fromState?.(issue.state, options.eventsPerIssue) ?? []);
    })();
  }
  const head = (db.prepare(`SELECT MAX(position) AS p FROM events`).get() as { p: number }).p;
  db.transaction(() => {
    for (const [name, value] of Object.entries(ids)) {
      db.prepare(`INSERT INTO id_sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`).run(name, value);
    }
    // the webhook subscription has seen all of it (no webhook existed: it would have scheduled nothing)
    db.prepare(
      `INSERT INTO subscription_checkpoints (name, position, transaction_id, updated_at) VALUES ('webhooks', ?, '0', ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, transaction_id = excluded.transaction_id`,
    ).run(head, new Date().toISOString());
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { projectId, events, seconds: (performance.now() - started) / 1000 };
}

/**
 * One issue's life, `count` events long: created with a two-stage pipeline, its first task
 * run to the end (stage transitions included), then comments and description changes.
 */
function issueScript(id: number, projectId: number, n: number, count: number, ids: { stage: number; task: number; comment: number }, actorId: number) {
  const ctx = { now: new Date(START), actorId };
  let state: IssueState = initialIssueState;
  const events: IssueEvent[] = [];
  const apply = (command: IssueCommand) => {
    for (const event of decideIssue(command, state, ctx)) {
      if (events.length === count) return;
      events.push(event);
      state = issueAggregate.evolve(state, { ...event, occurredAt: ctx.now.toISOString(), metadata: { actorId } });
    }
  };
  const [stage1, stage2, task1, task2] = [++ids.stage, ++ids.stage, ++ids.task, ++ids.task];
  apply({
    kind: 'CreateIssue',
    issueId: id,
    projectId,
    name: `issue ${n}`,
    type: 'bb.issue.general',
    description: 'x'.repeat(200),
    assigneeId: null,
    pipeline: { stages: [{ id: stage1, name: 'test', tasks: [{ id: task1, name: 'db1' }] }, { id: stage2, name: 'prod', tasks: [{ id: task2, name: 'db2' }] }] },
  });
  apply({ kind: 'ChangeTaskStatus', taskId: task1, to: 'PENDING' });
  apply({ kind: 'ChangeTaskStatus', taskId: task1, to: 'RUNNING' });
  apply({ kind: 'ChangeTaskStatus', taskId: task1, to: 'DONE' });
  for (let k = 0; events.length < count; k++) {
    if (k % 3 === 2) apply({ kind: 'UpdateIssueFields', description: `description ${k} of issue ${n}` });
    else apply({ kind: 'CreateComment', commentId: ++ids.comment, content: `comment ${k} on issue ${n}: ${'looks good '.repeat(4)}` });
  }
  // the state the raw inserts fold, event by event, as they write them
  return { id, events, state: initialIssueState as IssueState };
}
