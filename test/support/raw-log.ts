import { streamIdOf } from '../../src/event-store/aggregate-store.js';
import { uuidv7 } from '../../src/event-store/event-id.js';
import type { Evolving, RecordedEvent, SqlWrite } from '../../src/event-store/event.js';
import type { EventStore, LogCursor } from '../../src/event-store/event-store.js';
import { decideIssue, type IssueCommand } from '../../src/issues/issue.decider.js';
import type { IssueEvent } from '../../src/issues/issue.events.js';
import { issueAggregate, issuesReadModel } from '../../src/issues/issue.projection.js';
import { initialIssueState, type IssueState } from '../../src/issues/issue.state.js';
import { checkpointWrite, SUBSCRIPTION_NAME } from '../../src/webhooks/subscription/schedule-deliveries.js';

const ROWS_PER_STATEMENT = 250;

/**
 * A big log for a test, fast: `issues` issues of the project, `eventsPerIssue` events each
 * (created, then comments and description changes, as the issue decider makes them), their
 * events interleaved, written by raw multi-row inserts with each issue's row of rm_issues, on
 * either engine (the comments' rows are left out: thousands of single inserts, a round trip
 * each on PostgreSQL). The webhook subscription is moved past them (no webhook existed to hear of them).
 * Resolves with the positions they took.
 */
export async function appendRawIssues(store: EventStore, projectId: number, actorId: number, issues: number, eventsPerIssue: number): Promise<{ first: number; last: number }> {
  const first = (await store.head()) + 1;
  const ids = await store.transact(async (tx) => ({ issue: await tx.nextIds('issue', issues), comment: await tx.nextIds('comment', issues * eventsPerIssue) }));
  const comments = ids.comment[Symbol.iterator]();
  const lives = ids.issue.map((id) => life(id, projectId, actorId, eventsPerIssue, () => comments.next().value as number));
  const start = Date.parse('2025-06-01T00:00:00Z');
  let n = 0;
  const rows: unknown[][] = [];
  const readModels: SqlWrite[] = [];
  for (let k = 0; k < eventsPerIssue; k++) {
    for (const issue of lives) {
      const at = start + 1000 * n++;
      const event = issue.events[k];
      const metadata = { actorId, correlationId: `raw-${issue.id}-${k}`, causationId: null };
      const recorded = { ...event, eventId: uuidv7(at), streamId: streamIdOf(issueAggregate.kind, issue.id), version: k + 1, metadata, occurredAt: new Date(at).toISOString() } as RecordedEvent<IssueEvent>;
      rows.push([recorded.eventId, recorded.streamId, recorded.version, event.type, event.schemaVersion, JSON.stringify(event.data), JSON.stringify(metadata), recorded.occurredAt]);
      issue.state = issueAggregate.evolve(issue.state, recorded as unknown as Evolving<IssueEvent>);
    }
  }
  for (const issue of lives) readModels.push(...issuesReadModel.fromState!(issue.state, eventsPerIssue));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT * 20) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT * 20);
    await store.transact((tx) => tx.exec(statements(chunk)));
  }
  for (let i = 0; i < readModels.length; i += 5000) await store.transact((tx) => tx.exec(readModels.slice(i, i + 5000)));
  // the subscription is moved past these events: to the last of them in the log's order. Not to headCursor(): on
  // PostgreSQL it stops below the oldest transaction running anywhere on the server (another suite's, in another
  // database, for as long as that one runs); nothing else writes events here meanwhile
  const cursor = await lastCursor(store);
  await store.transact((tx) => tx.exec([checkpointWrite(SUBSCRIPTION_NAME, cursor, tx.now)]));
  return { first, last: await store.head() };
}

/** The cursor of the log's last event in the subscription's order (a PostgreSQL cursor leads with the transaction's id). */
async function lastCursor(store: EventStore): Promise<LogCursor> {
  if (store.engine !== 'postgres') return store.headCursor();
  const [row] = await store.query<{ transaction_id: string; position: number }>(
    `SELECT transaction_id::text AS transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`,
  );
  return { transactionId: row.transaction_id, position: Number(row.position) };
}

function statements(rows: unknown[][]): SqlWrite[] {
  const writes: SqlWrite[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    writes.push({
      sql: `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      params: chunk.flat(),
    });
  }
  return writes;
}

/** One issue's events, decided one command after another from its state. */
function life(id: number, projectId: number, actorId: number, count: number, commentId: () => number) {
  const ctx = { now: new Date('2025-06-01T00:00:00Z'), actorId };
  let state: IssueState = initialIssueState;
  const events: IssueEvent[] = [];
  const apply = (command: IssueCommand) => {
    for (const event of decideIssue(command, state, ctx)) {
      events.push(event);
      state = issueAggregate.evolve(state, { ...event, occurredAt: ctx.now.toISOString(), metadata: { actorId } } as Evolving<IssueEvent>);
    }
  };
  apply({ kind: 'CreateIssue', issueId: id, projectId, name: `raw ${id}`, type: 'bb.issue.general', description: 'from the raw log', assigneeId: null, pipeline: { stages: [] } });
  for (let k = 1; events.length < count; k++) {
    if (k % 3 === 0) apply({ kind: 'UpdateIssueFields', description: `change ${k}` });
    else apply({ kind: 'CreateComment', commentId: commentId(), content: `comment ${k} on ${id}` });
  }
  return { id, events: events.slice(0, count), state: initialIssueState as IssueState };
}
