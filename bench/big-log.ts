/**
 * A big event log, written fast: raw INSERTs of realistic events (what Herald's own deciders
 * decide for an issue's life: created with a two-stage pipeline, tasks run, one failing and
 * retried, stages beginning and ending, comments and their edits, field changes, resolved),
 * 100 per issue, issues interleaved 100 at a time as a busy service would write them, in
 * projects of 100 issues. Then the id sequences, the webhook subscription's checkpoint at the
 * end (a service that has been running keeps up with its log) and, optionally, the read
 * models (an in-process rebuild), so that a service started on it finds a log it has written.
 *
 * Self-contained on purpose (bench/replay.ts grows logs through the event store instead).
 */
import pg from 'pg';
import { openDataSource } from '../src/database/data-source.js';
import { openSqlite } from '../src/database/sqlite-driver.js';
import type { DatabaseConfig } from '../src/config/config.js';
import { uuidv7 } from '../src/event-store/event-id.js';
import type { DomainEvent } from '../src/event-store/event.js';
import { decideIssue, type IssueCommand } from '../src/issues/issue.decider.js';
import { evolveIssue, initialIssueState, type IssueState } from '../src/issues/issue.state.js';

export const EVENTS_PER_ISSUE = 100;
const ISSUES_PER_PROJECT = 100;
/** Issues written at once, their events round-robin. */
const INTERLEAVED = 100;
/** The admin Herald creates at its first start (after the system bot): the actor of every generated event. */
const ACTOR = 2;
const EPOCH = Date.parse('2025-01-01T00:00:00Z');

/** Sentinel ids of the template issue: replaced in each issue's JSON by its own. */
const T = { issue: 900_000_001, project: 900_000_002, stage: 900_000_010, task: 900_000_020, comment: 900_001_000 };

interface Template {
  type: string;
  schemaVersion: number;
  json: string;
}

/** One issue's life as the deciders decide it, with sentinel ids: EVENTS_PER_ISSUE events. */
function template(): Template[] {
  const events: DomainEvent[] = [];
  let state: IssueState = initialIssueState;
  let comments = 0;
  const ctx = { now: new Date(EPOCH), actorId: ACTOR };
  const decide = (command: IssueCommand) => {
    for (const event of decideIssue(command, state, ctx)) {
      events.push(event);
      state = evolveIssue(state, { ...event, occurredAt: ctx.now.toISOString(), metadata: { actorId: ACTOR } } as never);
    }
  };
  const stage = (n: number) => T.stage + n;
  const task = (n: number) => T.task + n;
  decide({
    kind: 'CreateIssue',
    issueId: T.issue,
    projectId: T.project,
    name: 'Add an index on orders.customer_id',
    type: 'bb.issue.database.schema.update',
    description: 'Queries by customer scan the whole table. '.repeat(4),
    assigneeId: ACTOR,
    pipeline: {
      stages: [
        { id: stage(1), name: 'test', tasks: [{ id: task(1), name: 'db-test-1' }, { id: task(2), name: 'db-test-2' }] },
        { id: stage(2), name: 'prod', tasks: [{ id: task(3), name: 'db-prod-1' }, { id: task(4), name: 'db-prod-2' }] },
      ],
    },
  });
  const comment = () => decide({ kind: 'CreateComment', commentId: T.comment + ++comments, content: `Checked the plan (${comments}): the index is used, the migration takes under a second on a copy of production.` });
  const run = (t: number, fail = false) => {
    decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'PENDING' });
    decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'RUNNING' });
    if (fail) {
      decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'FAILED', comment: 'lock timeout' });
      comment();
      decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'PENDING_APPROVAL' });
      decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'PENDING' });
      decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'RUNNING' });
    }
    decide({ kind: 'ChangeTaskStatus', taskId: task(t), to: 'DONE' });
  };
  for (let i = 0; i < 10; i++) comment();
  decide({ kind: 'UpdateIssueFields', description: 'Queries by customer scan the whole table; an index fixes it.' });
  run(1);
  run(2);
  for (let i = 0; i < 10; i++) comment();
  run(3, true);
  run(4);
  decide({ kind: 'EditComment', commentId: T.comment + 1, content: 'Checked the plan: the index is used.' });
  decide({ kind: 'UpdateIssueFields', name: 'Index orders.customer_id' });
  while (events.length < EVENTS_PER_ISSUE - 1) comment();
  decide({ kind: 'ChangeIssueStatus', to: 'DONE', comment: 'rolled out' });
  if (events.length !== EVENTS_PER_ISSUE) throw new Error(`the template issue has ${events.length} events, not ${EVENTS_PER_ISSUE}`);
  return events.map((e) => ({ type: e.type, schemaVersion: e.schemaVersion, json: JSON.stringify(e.data) }));
}

interface Row {
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: string;
  metadata: string;
  occurredAt: string;
}

/** Every event of the log in order: the projects first, then the issues, INTERLEAVED at a time. */
function* rows(issues: number): Generator<Row> {
  const events = template();
  const projects = Math.ceil(issues / ISSUES_PER_PROJECT);
  let at = EPOCH;
  const row = (streamId: string, version: number, type: string, schemaVersion: number, data: string): Row => {
    at += 250;
    return { eventId: uuidv7(at), streamId, version, type, schemaVersion, data, metadata: JSON.stringify({ actorId: ACTOR, correlationId: `bench-${at}`, causationId: null }), occurredAt: new Date(at).toISOString() };
  };
  for (let p = 1; p <= projects; p++) {
    yield row(`project-${p}`, 1, 'project.created', 1, JSON.stringify({ projectId: p, name: `Project ${p}`, key: `P${p}`, creatorId: ACTOR }));
  }
  const sentinel = /9000\d{5}/g;
  for (let first = 1; first <= issues; first += INTERLEAVED) {
    const batch = Array.from({ length: Math.min(INTERLEAVED, issues - first + 1) }, (_, k) => first + k);
    for (let n = 0; n < EVENTS_PER_ISSUE; n++) {
      for (const issue of batch) {
        const ids = (id: string) => {
          const sentinelId = Number(id);
          if (sentinelId === T.issue) return String(issue);
          if (sentinelId === T.project) return String(Math.ceil(issue / ISSUES_PER_PROJECT));
          if (sentinelId >= T.comment) return String((issue - 1) * EVENTS_PER_ISSUE + (sentinelId - T.comment));
          if (sentinelId >= T.task) return String((issue - 1) * 4 + (sentinelId - T.task));
          return String((issue - 1) * 2 + (sentinelId - T.stage));
        };
        const { type, schemaVersion, json } = events[n];
        yield row(`issue-${issue}`, n + 1, type, schemaVersion, json.replace(sentinel, ids));
      }
    }
  }
}

export interface BigLog {
  events: number;
  issues: number;
  projects: number;
  /** Seconds the raw inserts took. */
  writeSeconds: number;
}

/** The highest id each sequence handed out in a log of this many issues. */
function sequences(issues: number): [string, number][] {
  return [
    ['project', Math.ceil(issues / ISSUES_PER_PROJECT)],
    ['issue', issues],
    ['stage', issues * 2],
    ['task', issues * 4],
    ['comment', issues * EVENTS_PER_ISSUE],
  ];
}

/** Writes a log of `issues` × 100 events into a new database (migrated first). */
export async function writeBigLog(database: DatabaseConfig, issues: number): Promise<BigLog> {
  const started = performance.now();
  // migrated, then written raw
  await (await openDataSource(database)).destroy();
  const postgres = database.kind === 'postgres';
  const count = postgres ? await writePostgres(database.url, issues) : writeSqlite(database.path, issues);
  return { events: count, issues, projects: Math.ceil(issues / ISSUES_PER_PROJECT), writeSeconds: (performance.now() - started) / 1000 };
}

function writeSqlite(path: string, issues: number): number {
  const db = openSqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const batch = db.transaction((items: Row[]) => {
    for (const r of items) insert.run(r.eventId, r.streamId, r.version, r.type, r.schemaVersion, r.data, r.metadata, r.occurredAt);
  });
  let count = 0;
  let pending: Row[] = [];
  for (const r of rows(issues)) {
    pending.push(r);
    if (pending.length === 20_000) {
      batch(pending);
      count += pending.length;
      pending = [];
    }
  }
  batch(pending);
  count += pending.length;
  const seq = db.prepare(`INSERT INTO id_sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
  for (const [name, value] of sequences(issues)) seq.run(name, value);
  const head = (db.prepare(`SELECT MAX(position) AS p FROM events`).get() as { p: number }).p;
  db.prepare(`INSERT INTO subscription_checkpoints (name, position, transaction_id, updated_at) VALUES ('webhooks', ?, '0', ?)`).run(head, new Date().toISOString());
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return count;
}

async function writePostgres(url: string, issues: number): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'herald-bench' });
  await client.connect();
  try {
    const PER_STATEMENT = 1000;
    let count = 0;
    let pending: Row[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const values: unknown[] = [];
      const tuples = pending.map((r) => {
        const base = values.length;
        values.push(r.eventId, r.streamId, r.version, r.type, r.schemaVersion, r.data, r.metadata, r.occurredAt);
        return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}::jsonb, $${base + 7}::jsonb, $${base + 8})`;
      });
      await client.query(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ${tuples.join(', ')}`, values);
      count += pending.length;
      pending = [];
    };
    await client.query('BEGIN');
    for (const r of rows(issues)) {
      pending.push(r);
      if (pending.length === PER_STATEMENT) {
        await flush();
        // transactions of 20,000 rows: many transaction ids, as a log written by commands has
        if (count % 20_000 === 0) await client.query('COMMIT; BEGIN');
      }
    }
    await flush();
    for (const [name, value] of sequences(issues)) {
      await client.query(`INSERT INTO id_sequences (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, [name, value]);
    }
    // each stream's head, as appends keep them (and the migration made them for a log written before): without one a
    // stream is still read and appended to, but its reads scan every partition of the log
    await client.query(
      `INSERT INTO stream_heads (stream_id, version, first_position) SELECT stream_id, MAX(version), MIN(position) FROM events GROUP BY stream_id
       ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, first_position = excluded.first_position`,
    );
    await client.query('COMMIT');
    await client.query(
      `INSERT INTO subscription_checkpoints (name, position, transaction_id, updated_at)
       SELECT 'webhooks', position, transaction_id, now()::text FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`,
    );
    await client.query('VACUUM ANALYZE events');
    return count;
  } finally {
    await client.end();
  }
}
