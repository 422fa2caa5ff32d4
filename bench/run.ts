/**
 * npm run bench: measures, in one run on this machine, the event store against raw
 * better-sqlite3 (and against raw `pg` on PostgreSQL: ./postgres.ts), the HTTP API
 * against no-I/O twins of its routes, a projection rebuild against a raw ordered read, and the start-up
 * and liveness of the built service on logs of 100,000 and 1,000,000 events (./start-up.ts).
 * Prints a table and writes docs/benchmarks.md.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openDataSource, sqliteHandle } from '../src/database/data-source.js';
import { openSqlite } from '../src/database/sqlite-driver.js';
import { AggregateStore } from '../src/event-store/aggregate-store.js';
import { ProjectionRebuilder } from '../src/event-store/projection-rebuilder.js';
import { SqliteEventStore } from '../src/event-store/sqlite-event-store.js';
import { decideIssue } from '../src/issues/issue.decider.js';
import { initialIssueState } from '../src/issues/issue.state.js';
import { issueAggregate } from '../src/issues/issue.projection.js';
import { systemClock } from '../src/shared/clock.js';
import { AGGREGATES } from '../src/domain.js';
import { postgresAppends } from './postgres.js';
import { instances } from './instances.js';
import { paceCost } from './pace.js';
import { filterCost } from './filters.js';
import { decisionsLatency, replayRows } from './replay.js';
import { engines, startUpRows } from './start-up.js';
import { latency, throughput, type Row } from './webhooks.js';
import { tracingCost } from './tracing.js';
import { everyRow, runs, serverExecArgv } from './profile.js';

const rows: Row[] = [];
/** The 1-minute load average as the run starts (the machine is shared: the figures depend on it). */
const loadAtStart = loadavg()[0];

/** What the figures are bound by, as far as profiling showed (kept with the table). */
const LIMITS = `## What limits them

- The machine is small and shared (2 cores): the server, autocannon or the receiver, and the bench itself compete
  for them, and runs vary by ±30 %.
- (b) Every command is one SQLite write transaction on the event loop; commands arriving together share one COMMIT.
  With synchronous=FULL the COMMIT no longer fsyncs on the loop (issue 26): it runs at NORMAL (the WAL written to the
  OS), the answers wait for one fdatasync of the WAL on libuv's thread pool, and what arrives meanwhile commits at
  once and shares the next sync. Profiled (the server's main thread during (b), the 2 cores loaded by
  a test run beside it): better-sqlite3's exec (BEGIN, SAVEPOINTs, COMMIT) took 20 % of the samples before, its fsync
  on the loop, and 3.6 % after (3.1 % with NORMAL); after, the loop sat idle a quarter of the time. That idle time is
  the bound of the FULL rows: each of the 10 connections waits for a sync per command, before as after, so their rate
  is the disk's sync latency more than Herald's work (NORMAL's rows answer without it), and what the change buys is
  the loop serving everything else meanwhile (see (d)). class-validator took about a twenty-fifth. Each route's no-I/O
  twin pays the same guard and validation on the same body, but no command: the ratio is what the command itself
  costs.
- (c) Rebuild pays for evolving every event and writing every read-model row; the baseline only parses.
- (d) A command's path to its webhook is a few hops of in-process work (the subscription reads the log, the
  scheduler's transaction, a claim, the request). The p99 is bound by what blocks the one event loop. A command's
  fsync no longer does (see (b)): the subscription is woken with the answer, once the sync is done, so the latency
  starts after it, and deliveries due meanwhile go out; the WAL checkpoints run on a worker thread. What is left is
  the commits' own work, garbage collection, and the load generator and the receiver sharing the 2 cores. When other work takes the cores (a load average of 6
  or more on these 2), the service no longer keeps up with 100 commands/s at all and the latency is the backlog's,
  seconds, as for the code before issue 13 measured beside it.
- (e) Every attempt is still recorded: per delivery the claim rewrites its row, the record rewrites it again and
  inserts the attempt (request and response bodies), in transactions shared by many attempts (the statements per
  delivery are in the row). Claiming, judging and recording run on the service's thread; rendering, signing and
  sending on a sending thread beside it when more than one message is in flight (WEBHOOK_THREADS), on the service's
  thread when one is alone: the row's note gives the service thread's CPU per delivery (with 50 webhooks about
  100 µs, 41 % of it SQLite statements, against the raw loop's 26 µs a request). With one webhook, deliveries go one
  after another (each renders, signs, sends and is judged before the next goes: about 290 µs of the service thread's
  CPU, the raw loop's 50 µs), and the record of every few successes is awaited before more are sent (at most 10
  ahead: what a crash could make it send twice).
- (f) PostgreSQL runs durable (fsync and synchronous_commit on) on the same 2 cores, over loopback TCP. A command is 8
  statements, each a round trip (BEGIN, the stream's advisory lock, the catch-up read, the version check, INSERT ...
  RETURNING, the read-model upsert, NOTIFY, COMMIT); the raw baseline is 3 (BEGIN, INSERT, COMMIT). Both wait for one
  WAL flush per commit. In a profiling run, leaving out NOTIFY, the upsert, the lock and the read took a command from
  about 2.1 to 1.2 ms. With 8 streams at once, commits overlap, but the bench process and 8 backends share the 2
  cores. In 100-event transactions those statements are paid once per 100 events; encoding the rows and reading back
  their positions remain.
- (g) The round trips per delivery are a few per claim of up to 50 and per record transaction of many attempts, plus
  the instance's own polling and heartbeat while it works (all counted). Throughput is bound by CPU: the Herald
  process, PostgreSQL's backends and the receiver share the 2 cores; more instances add processes, not cores. The
  pinned rows put the instances on cpu 0 (the second on cpu 1 in the split set-up) and PostgreSQL, the receiver and
  the bench on cpu 1 (\`taskset\`), and read each side's CPU per delivery and what the event loop waited for:
  docs/scale.md says what they can and cannot show.
  Their webhooks are Custom ones: no receiver's limits to keep, so nothing is taken per message (a Custom receiver's
  block, after a 429, comes back with the claim). A webhook whose receiver has limits (every chat provider) takes its
  slot in the shared pace before each message: one transaction of its own, 3 statements (the rows "receivers with
  limits"), since the slot must be taken as the message leaves, not with the claim of up to 50 sent one after another.
- (h) A replay reads the log in the background, 100 events a page: it folds each issue as it was at every event,
  maps each event to its activity, decides it (the scheduler's rule, with the webhook's filter), looks up the page's
  existing deliveries by id, and writes the page's rows with the replay's progress in one short transaction, giving
  the loop a turn between pages and every 5 ms within one. Its rows carry their activity (measured after (h)'s
  replay of 1,000,000 events, on a loaded machine: 1,057 bytes a row on disk, 838 of them the activity, whose issue
  description appears twice, in the issue and in its meta lines; 231 more in the table's indexes; the log takes 394
  bytes an event, indexes included), into a table of ten indexes, one of them on the delivery id (a hash: the receivers' webhook-id), whose inserts land all
  over that index. Meanwhile the dispatcher sends the replay's deliveries to the local receiver, on the same loop,
  and the bench polls the progress every 500 ms (a full count of its deliveries by status is reused until twenty
  times its cost has passed, what was read since added). What made it slow down as the table grew, and is gone: the
  dispatcher's look for due work grouped every open delivery at each wake-up (each page woke it); SQLite's WAL
  checkpoints ran inside COMMITs on the loop (and, moved to a worker thread but never started over, the WAL grew past
  a gigabyte and slowed every read); the progress counted every delivery at each poll.
- (i) The decisions route pages by events (50 by default). A page reads the issue's and the project's streams (1,000
  events at a time, the loop given a turn after each), folds both up to the page's last event, maps each of the page's events to its activity and decides it for each of the 10
  webhooks (filters evaluated), then reads those events' deliveries.
- (j) On a log it has started on before, the start-up check reads only the events appended since (here the admin's,
  created at the first start): what is left is loading the modules, connecting, the migrations' look at their table and
  the first readiness answer, none of which reads the log. A log never started on (or under schemas or upcasters of
  another release) is judged once, whole (150,000 to 250,000 events/s on SQLite, about 120,000 on PostgreSQL, as busy as the machine was): the first-start figures in the note grow
  with the log, by design, and the service answers meanwhile (k). The logs are 10,000 (or 1,000) issues × 100 events
  of the shapes the deciders decide, 100 issues interleaved at a time, written with raw INSERTs (bench/big-log.ts).
- (k) /health/live is probed every 20 ms over HTTP by the bench process, from the first answer (the service listens
  before its start-up work) until ready, or while a rebuild started with POST /api/admin/projections/rebuild runs. The
  check and the rebuild work in slices of a few milliseconds (250 events; 100 streams' rows) and yield between them; the rebuild writes shadow tables in short transactions and swaps them in with one. What still reaches tens of
  milliseconds (SQLite's WAL checkpoints now run on a worker thread, see (m)): garbage collections (on a busy machine a young-generation collection waits for its helper threads), and the
  machine itself: with a run queue of 10 or more on these 2 cores, a process is not scheduled for tens of milliseconds
  whatever it runs. On PostgreSQL the statements are awaited; what is left on the loop is parsing and folding a slice.
  Profiled in process (a 5 ms timer, with the CPU the process used between its ticks) during a rebuild of 1,000,000
  events on SQLite while the machine was busy: the most CPU one turn of the loop took was 29 ms; the longest turns in
  wall time (up to 274 ms) used under 10 ms of CPU: the process was waiting for a core or for the disk.
- (l) A filter's cost is bounded by its budget (3,000,000 steps) and the save-time check over the largest activity; the
  time per step varies with the work: \`lowerAscii()\` of a text of non-ASCII characters (Unicode case mapping) is the
  slowest per step measured (about 1.4 ns), RE2's lazy DFA the fastest. The slowest single runs include a garbage
  collection of the lists and texts an evaluation made.
- (m) The worst answers of /health/live are what the loop could not interleave: a page's write transaction (a few
  milliseconds), a slice of scanning (5 ms), V8's garbage collections (a major one paused 58 ms in a profiled run),
  and on this shared machine the scheduler taking the CPU from the process (the server, the receiver, the prober
  and other engineers' work on 2 cores): the idle server's answers are shown beside them. WAL checkpoints run on a
  worker thread; their file syncs no longer hold the loop.`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
const meta = { actorId: 2, correlationId: 'bench' };

async function appends(): Promise<void> {
  const N = 5000;
  const ds = await openDataSource({ kind: 'sqlite', path: join(dir, 'append.sqlite') });
  const store = new SqliteEventStore(sqliteHandle(ds), systemClock);
  const issues = new AggregateStore(issueAggregate, store);
  const { id } = await issues.create({ ids: { issue: 1 }, idSequence: 'issue', metadata: meta }, ({ now, ids }) =>
    decideIssue({ kind: 'CreateIssue', issueId: ids.issue[0], projectId: 1, name: 'bench', type: 'bb.issue.general', description: '', assigneeId: null, pipeline: { stages: [] } }, initialIssueState, { now, actorId: 2 }),
  );
  let start = performance.now();
  for (let i = 0; i < N; i++) {
    await issues.update(id, { metadata: meta }, (s) => [{ type: 'issue.field-updated', schemaVersion: 2, data: { issueId: id, projectId: 1, field: 'description', from: s.description, to: `d${i}` } }]);
  }
  const heraldRate = N / ((performance.now() - start) / 1000);
  // the store's reader, WAL sync thread and checkpointer first: left open, their file handles are closed by GC (with a warning)
  await store.close();
  await ds.destroy();

  // the same rows, raw: one transaction per insert, same pragmas
  const raw = openSqlite(join(dir, 'raw.sqlite'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, version INTEGER NOT NULL,
    type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, occurred_at TEXT NOT NULL, UNIQUE (stream_id, version))`);
  const insert = raw.prepare(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const tx = raw.transaction((i: number) =>
    insert.run(crypto.randomUUID(), 'issue-1', i + 2, 'issue.field-updated', 1, JSON.stringify({ issueId: 1, projectId: 1, field: 'description', from: `d${i - 1}`, to: `d${i}` }), JSON.stringify({ ...meta, causationId: null }), new Date().toISOString()),
  );
  start = performance.now();
  for (let i = 0; i < N; i++) tx.immediate(i);
  const rawRate = N / ((performance.now() - start) / 1000);
  raw.close();
  rows.push({ name: '(a) single-event commands, in process (events/s)', herald: fmt(heraldRate), baseline: `${fmt(rawRate)} raw better-sqlite3 inserts`, ratio: heraldRate / rawRate, target: 0.5, note: `${N} each, synchronous=FULL, WAL` });
}

async function http(synchronous: 'FULL' | 'NORMAL'): Promise<void> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const token = 'bench-admin-token-0123456789';
  const child = fork(join(import.meta.dirname, 'server.js'), [], {
    execArgv: serverExecArgv,
    env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, `http-${synchronous}.sqlite`)}`, HERALD_ADMIN_TOKEN: token, LOG_LEVEL: 'warn', HERALD_SQLITE_SYNCHRONOUS: synchronous, HERALD_RATE_LIMIT_PER_MINUTE: '0' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = async (path: string, body: unknown) => (await (await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { id: number };
  const project = await created('/api/projects', { name: 'Bench' });
  const issue = await created(`/api/projects/${project.id}/issues`, { name: 'bench', type: 'bb.issue.general' });
  // the warm-up's comments go to an issue of their own: the measured one starts as short as it always did
  const warmUpIssue = await created(`/api/projects/${project.id}/issues`, { name: 'warm-up', type: 'bb.issue.general' });
  const run = (path: string, body: unknown, duration = 8) =>
    autocannon({ url: `${base}${path}`, method: 'POST', headers, body: JSON.stringify(body), connections: 10, duration }) as Promise<autocannon.Result>;
  // each route beside its no-I/O twin (bench/server.ts: same guard, pipes and validation), sent the same body
  const issueBody = { name: 'bench issue', type: 'bb.issue.general', pipeline: { stages: [{ name: 'prod', tasks: [{ name: 'db' }] }] } };
  const commentBody = { content: 'a comment from the benchmark' };
  const routes = (commentedId: number) =>
    ({
      noopIssue: [`/bench/noop/projects/${project.id}/issues`, issueBody],
      create: [`/api/projects/${project.id}/issues`, issueBody],
      noopComment: [`/bench/noop/issues/${commentedId}/comments`, commentBody],
      comment: [`/api/issues/${commentedId}/comments`, commentBody],
    }) as const;
  // every route warmed up alike (JIT, statement caches, the token cache) before any is measured
  for (const [path, body] of Object.values(routes(warmUpIssue.id))) await run(path, body, 3);
  const measured = routes(issue.id);
  const noopIssue = await run(...measured.noopIssue);
  const create = await run(...measured.create);
  const noopComment = await run(...measured.noopComment);
  const comment = await run(...measured.comment);
  child.kill('SIGTERM');
  const lat = (r: autocannon.Result) => `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`;
  const ok = (r: autocannon.Result) => (r.non2xx > 0 || r.errors > 0 ? ` (${r.non2xx} non-2xx, ${r.errors} errors!)` : '');
  const twin = (r: autocannon.Result) => `its no-I/O twin (same guard, validation and body): ${fmt(r.requests.average)} req/s, ${lat(r)}${ok(r)}`;
  const mode = `synchronous=${synchronous}`;
  rows.push({ name: `(b) HTTP issue creation, ${mode} (req/s, 10 connections)`, herald: `${fmt(create.requests.average)}, ${lat(create)}${ok(create)}`, baseline: twin(noopIssue), ratio: create.requests.average / noopIssue.requests.average, target: 0.5 });
  rows.push({ name: `(b) HTTP comments on one issue, ${mode} (req/s, 10 connections)`, herald: `${fmt(comment.requests.average)}, ${lat(comment)}${ok(comment)}`, baseline: twin(noopComment), ratio: comment.requests.average / noopComment.requests.average, target: 0.5 });
}

/** Resolves with the rebuild's rate (events/s): (h) compares a replay's scheduling rate with it. */
async function rebuild(): Promise<number> {
  const ds = await openDataSource({ kind: 'sqlite', path: join(dir, 'rebuild.sqlite') });
  const store = new SqliteEventStore(sqliteHandle(ds), systemClock);
  const issues = new AggregateStore(issueAggregate, store);
  // 2,000 issues × (created + BEGIN + 2 task changes + END/BEGIN + 5 comments + a field change) ≈ 24k events
  for (let n = 0; n < 2000; n++) {
    const { id, state } = await issues.create({ ids: { issue: 1, stage: 2, task: 2 }, idSequence: 'issue', metadata: meta }, ({ now, ids }) =>
      decideIssue({ kind: 'CreateIssue', issueId: ids.issue[0], projectId: 1, name: `issue ${n}`, type: 'bb.issue.general', description: 'x'.repeat(200), assigneeId: null, pipeline: { stages: [{ id: ids.stage[0], name: 'test', tasks: [{ id: ids.task[0], name: 'db1' }] }, { id: ids.stage[1], name: 'prod', tasks: [{ id: ids.task[1], name: 'db2' }] }] } }, initialIssueState, { now, actorId: 2 }),
    );
    const taskId = state.stages[0].tasks[0].id;
    await issues.update(id, { metadata: meta }, (s, { now }) => decideIssue({ kind: 'ChangeTaskStatus', taskId, to: 'PENDING' }, s, { now, actorId: 2 }));
    await issues.update(id, { metadata: meta }, (s, { now }) => decideIssue({ kind: 'ChangeTaskStatus', taskId, to: 'DONE' }, s, { now, actorId: 2 }));
    for (let c = 0; c < 5; c++) {
      await issues.update(id, { metadata: meta, ids: { comment: 1 } }, (s, { now, ids }) => decideIssue({ kind: 'CreateComment', commentId: ids.comment[0], content: `comment ${c} `.repeat(10) }, s, { now, actorId: 2 }));
    }
    await issues.update(id, { metadata: meta }, (s, { now }) => decideIssue({ kind: 'UpdateIssueFields', name: `issue ${n} renamed` }, s, { now, actorId: 2 }));
  }
  const rebuilder = new ProjectionRebuilder(store, AGGREGATES);
  await rebuilder.rebuild({ requestedBy: 'bench' }); // warm-up
  const { events, durationMs } = await rebuilder.rebuild({ requestedBy: 'bench' });
  const heraldRate = events / (durationMs / 1000);
  const db = sqliteHandle(ds);
  const start = performance.now();
  let parsed = 0;
  for (const row of db.prepare('SELECT * FROM events ORDER BY position').iterate() as Iterable<{ data: string; metadata: string }>) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    parsed++;
  }
  const rawRate = parsed / ((performance.now() - start) / 1000);
  await store.close();
  await ds.destroy();
  rows.push({ name: '(c) projection rebuild (events/s)', herald: `${fmt(heraldRate)} (${fmt(events)} events in ${durationMs} ms)`, baseline: `${fmt(rawRate)} raw ordered SELECT + JSON.parse`, ratio: heraldRate / rawRate, target: 0.5 });
  return heraldRate;
}

if (runs('a')) await appends();
if (runs('b')) {
  await http('FULL');
  await http('NORMAL');
}
// (h) compares with (c)'s rate
const rebuildRate = runs('c') || runs('h') ? await rebuild() : 0;
if (runs('d')) rows.push(await latency(dir));
if (runs('e')) {
  rows.push(await throughput(dir, 1, 2000));
  rows.push(await throughput(dir, 50, 5000));
}
if (runs('f')) rows.push(...(await postgresAppends()));
if (runs('g')) {
  rows.push(...(await instances()));
  rows.push(...(await paceCost(dir)));
}
const replayed = runs('h') || runs('m') ? await replayRows(dir, rebuildRate) : [];
if (replayed.length > 0) rows.push(replayed[0]);
if (runs('i')) rows.push(await decisionsLatency(dir));
if (replayed.length > 0) rows.push(replayed[1]);
if (runs('j') || runs('k')) {
  rows.push(...(await startUpRows(await engines.sqlite(dir))));
  const postgres = await engines.postgres();
  try {
    rows.push(...(await startUpRows(postgres)));
  } finally {
    await postgres.close();
  }
}
if (runs('l')) rows.push(filterCost());
// t: the tracing rows ((b) and (e) with tracing on)
if (runs('t')) rows.push(...(await tracingCost(dir)));
rmSync(dir, { recursive: true, force: true });

const machine =
  `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}; ` +
  `load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`;
const table = [
  '| measure | Herald | baseline | ratio | target |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${r.herald} | ${r.baseline} | ${r.ratio.toFixed(2)} ${r.ratio >= r.target ? '✓' : '✗'} | ≥ ${r.target} |`),
].join('\n');
const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`).join('\n');
console.log(`\n${machine}\n\n${table}\n${notes}`);
if (everyRow) {
  writeFileSync(
    'docs/benchmarks.md',
    `# Benchmarks\n\nWritten by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}; every figure comes from one run on one machine.\n\nMachine: ${machine}\n\n${table}\n\n${notes}\n\n${LIMITS}\n`,
  );
}
// a row's servers, receivers and pools are closed, but a profiling run of some rows was seen to stay alive after its table
process.exit(0);
