import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { pgPool } from '../../src/database/data-source.js';
import { PartitionKeeper } from '../../src/database/partition-keeper.js';
import { RangePartitions } from '../../src/database/range-partitions.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { READ_STREAM } from '../../src/event-store/postgres-sql.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';
import { systemClock } from '../../src/shared/clock.js';
import { ThisInstance } from '../../src/webhooks/delivery/instance.js';
import { DeliveryQueue } from '../../src/webhooks/delivery/queue.js';
import { api } from '../support/api.js';
import { until } from '../support/process-calls.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const SPAN = 20;

/** The log partitioned by position (issue 26), driven through REST with partitions of 20 positions. */
describe('the partitioned log on PostgreSQL, 20 positions a partition', () => {
  const lines: Record<string, any>[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  let t: TestApp;
  let receiver: Receiver;
  let pool: pg.Pool;
  let partitions: RangePartitions;
  let project: { id: number };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestApp({ engine: 'postgres', env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true', HERALD_PG_PARTITION_SPAN: String(SPAN), LOG_LEVEL: 'info' }, logStream });
    const database = t.config.database;
    if (database.kind !== 'postgres') throw new Error('this suite runs on PostgreSQL');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    partitions = new RangePartitions(pool, 'events', 'position');
  });

  afterAll(async () => {
    await pool?.end();
    await t?.close();
    await receiver?.stop();
  });

  const head = async () => Number((await pool.query(`SELECT COALESCE(MAX(position), 0) AS p FROM events`)).rows[0].p);
  const lastEnd = async () => (await partitions.list()).pop()!.to!;
  /** What `read` returns, and the statements the store sent through its pool meanwhile, as it sent them. */
  const sentDuring = async <T>(read: () => Promise<T>): Promise<{ value: T; calls: [string, unknown[]][] }> => {
    const sent = jest.spyOn(pgPool(t.app.get(DataSource)), 'query');
    try {
      const value = await read();
      return { value, calls: sent.mock.calls.map((call) => call as unknown as [string, unknown[]]) };
    } finally {
      sent.mockRestore();
    }
  };
  /** The plan of the first statement sent that matches `statement`. */
  const planOf = async (calls: [string, unknown[]][], statement: RegExp) => {
    const [text, values] = calls.find(([text]) => statement.test(String(text)))!;
    return (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it('keeps every event in its partition, reads streams that span partitions whole, delivers, and refuses stale commands', async () => {
    const a = api(t);
    project = await a.createProject('Partitions');
    await a.post(`/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'sink', url: receiver.url(), activityTypes: ['bb.issue.comment.create'] }, 201);
    const early = await a.createIssue(project.id, { name: 'Early' });
    // two issues' comments interleaved: each stream spans several partitions, with the other's events between
    let late: { id: number } | undefined;
    for (let i = 0; i < 60; i++) {
      await a.comment(early.id, `early ${i}`);
      if (i === 45) late = await a.createIssue(project.id, { name: 'Late' });
      if (late) await a.comment(late.id, `late ${i}`);
    }
    const top = await head();
    expect(top).toBeGreaterThan(3 * SPAN);

    // every event in the partition whose bounds hold its position
    const all = await partitions.list();
    expect(all.length).toBeGreaterThan(3);
    const { rows } = await pool.query<{ part: string; position: number }>(`SELECT tableoid::regclass::text AS part, position FROM events`);
    for (const row of rows) {
      const holder = all.find((p) => p.name === row.part)!;
      expect([row.position >= (holder.from ?? -Infinity), row.position < (holder.to ?? Infinity)]).toEqual([true, true]);
    }
    expect(new Set(rows.map((r) => r.part)).size).toBeGreaterThan(3);

    // the streams, whole and in order, through REST and the store
    expect((await a.get(`/api/issues/${early.id}/comments`)).map((c: { content: string }) => c.content)).toEqual(Array.from({ length: 60 }, (_, i) => `early ${i}`));
    expect((await a.get(`/api/issues/${late!.id}/comments`)).map((c: { content: string }) => c.content)).toEqual(Array.from({ length: 15 }, (_, i) => `late ${i + 45}`));
    const stream = await t.app.get(EventStore).readStream(`issue-${late!.id}`);
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: stream.length }, (_, i) => i + 1));

    // the late stream's read skips the partitions before it began (pruned at run time: never executed)
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${READ_STREAM}`, [`issue-${late!.id}`, 0, null])).rows.map(
      (r) => r['QUERY PLAN'],
    );
    const firstPosition = Number((await pool.query(`SELECT first_position FROM stream_heads WHERE stream_id = $1`, [`issue-${late!.id}`])).rows[0].first_position);
    const before = all.filter((p) => p.to !== null && p.to <= firstPosition);
    expect(before.length).toBeGreaterThan(1);
    for (const p of before) expect(plan.find((line) => line.includes(` on ${p.name} `))).toMatch(/never executed/);

    // every comment delivered once
    await until(() => receiver.received.length >= 75, '75 comment deliveries');
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(75);

    // concurrency: a stale version is refused, and of commands racing on one version one wins
    const etag = (await t.http.get(`/api/issues/${early.id}`).set(t.auth).expect(200)).headers.etag;
    await a.comment(early.id, 'moves it on');
    await t.http.post(`/api/issues/${early.id}/comments`).set(t.auth).set('If-Match', etag).send({ content: 'stale' }).expect(412);
    const current = (await t.http.get(`/api/issues/${early.id}`).set(t.auth).expect(200)).headers.etag;
    const racing = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.http.post(`/api/issues/${early.id}/comments`).set(t.auth).set('If-Match', current).send({ content: `race ${i}` })),
    );
    // the losers: 412 when they loaded the winner's version, 409 when they loaded before it and lost the append
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    expect(racing.every((r) => [201, 409, 412].includes(r.status))).toBe(true);
    expect((await a.get(`/api/issues/${early.id}/comments`)).filter((c: { content: string }) => c.content.startsWith('race'))).toHaveLength(1);
  });

  it('reads a stream whose start it knows with that start as a parameter: only the partitions from there are planned', async () => {
    const a = api(t);
    const issue = await a.createIssue(project.id, { name: 'Planned' });
    for (let i = 0; i < 3; i++) await a.comment(issue.id, `planned ${i}`);
    const streamId = `issue-${issue.id}`;
    const firstPosition = Number((await pool.query(`SELECT first_position FROM stream_heads WHERE stream_id = $1`, [streamId])).rows[0].first_position);
    const earlier = (await partitions.list()).filter((p) => p.to !== null && p.to <= firstPosition);
    expect(earlier.length).toBeGreaterThan(1);

    // the statement the store itself sends, as it sends it
    const { value: read, calls } = await sentDuring(() => t.app.get(EventStore).readStream(streamId));
    expect(read.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    const plan = await planOf(calls, /FROM events\s+WHERE stream_id = \$1/);
    // pruned when planned: the partitions before the stream began are not in the plan at all (not even "never executed")
    for (const p of earlier) expect(plan).not.toContain(` on ${p.name} `);
    expect(plan).toMatch(/ on events_from_\d+ /);
  });

  it("reads several streams' parts at once (a replay's send) from their starts: only the partitions from the earliest start are planned", async () => {
    const a = api(t);
    const issues = [await a.createIssue(project.id, { name: 'Spans 1' }), await a.createIssue(project.id, { name: 'Spans 2' })];
    for (const issue of issues) await a.comment(issue.id, 'in a span');
    const streamIds = issues.map((issue) => `issue-${issue.id}`);
    const firstPosition = Number((await pool.query(`SELECT MIN(first_position) AS p FROM stream_heads WHERE stream_id = ANY($1)`, [streamIds])).rows[0].p);
    const earlier = (await partitions.list()).filter((p) => p.to !== null && p.to <= firstPosition);
    expect(earlier.length).toBeGreaterThan(1);

    const { value: read, calls } = await sentDuring(() =>
      t.app.get(EventStore).readStreamSpans(streamIds.map((streamId) => ({ streamId, afterVersion: 0, most: 5, toPosition: Number.MAX_SAFE_INTEGER }))),
    );
    expect(read.map((e) => e.position)).toEqual(read.map((e) => e.position).sort((x, y) => x - y));
    expect(read.filter((e) => e.streamId === streamIds[0]).map((e) => e.version)).toEqual([1, 2]);
    expect(read.filter((e) => e.streamId === streamIds[1]).map((e) => e.version)).toEqual([1, 2]);
    const plan = await planOf(calls, /FROM events WHERE \(\(stream_id = /);
    for (const p of earlier) expect(plan).not.toContain(` on ${p.name} `);
    expect(plan).toMatch(/ on events_from_\d+ /);
  });

  it('reads whole a stream whose start it did not know: written around the store, then appended to through it', async () => {
    const store = t.app.get(EventStore);
    const streamId = `raw-${Date.now()}`;
    expect(await store.readStream(streamId)).toEqual([]);
    // events written without a head (as an import around the store might): no first position to know
    await pool.query(
      `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at)
       SELECT 'raw-' || $1 || '-' || v, $1, v, 'test.raw', 1, jsonb_build_object('v', v), '{}', now()::text FROM generate_series(1, 3) v`,
      [streamId],
    );
    expect((await store.readStream(streamId)).map((e) => e.data)).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    const meta = { actorId: 1, correlationId: 'test', causationId: null };
    await store.transact((tx) => tx.append(streamId, 3, [{ type: 'test.raw', schemaVersion: 1, data: { v: 4 } }], { metadata: meta }));
    expect((await store.readStream(streamId)).map((e) => e.version)).toEqual([1, 2, 3, 4]);
    expect((await store.readStream(streamId, 2)).map((e) => e.version)).toEqual([3, 4]);
  });

  it("sends the queue's due() as a named statement (planned once per connection), and as plain text with HERALD_PG_PREPARED_STATEMENTS off", async () => {
    const storePool = pgPool(t.app.get(DataSource));
    // (the app's dispatcher sends its own statements through the same pool meanwhile: the look for due work is picked out)
    const dueOf = async (queue: DeliveryQueue) => {
      const sent = jest.spyOn(storePool, 'query');
      try {
        await queue.due(Date.now(), async () => false);
        return sent.mock.calls.map(([statement]) => statement as unknown).find((statement) => JSON.stringify(statement).includes('WITH RECURSIVE hooks'));
      } finally {
        sent.mockRestore();
      }
    };
    expect(await dueOf(t.app.get(DeliveryQueue))).toMatchObject({ name: expect.stringMatching(/^herald_[0-9a-f]+$/), text: expect.stringContaining('WITH RECURSIVE hooks') });
    const plainStore = new PostgresEventStore(storePool, systemClock, new UpcasterRegistry(), undefined, false);
    expect(await dueOf(new DeliveryQueue(plainStore, t.config, new ThisInstance()))).toEqual(expect.stringContaining('WITH RECURSIVE hooks'));
  });

  it('has the keeper add partitions after commits, one span ahead of the head', async () => {
    await until(async () => (await lastEnd()) > (await head()) + SPAN, 'the last partition one span past the head');
    const a = api(t);
    const issue = await a.createIssue(project.id, { name: 'Ahead' });
    const endBefore = await lastEnd();
    // past the point where a commit calls for a turn
    while ((await head()) < endBefore - SPAN + 5) await a.comment(issue.id, 'on');
    await until(async () => (await lastEnd()) > (await head()) + SPAN, 'partitions added after the commits');
    expect(await lastEnd()).toBeGreaterThan(endBefore);
    const added = lines.filter((l) => l.context === 'PartitionKeeper' && l.event === 'partitions-added');
    expect(added.length).toBeGreaterThan(0);
    expect(added[0]).toMatchObject({ table: 'events', partitions: expect.arrayContaining([expect.stringMatching(/^events_from_\d+$/)]) });
    expect(lines.filter((l) => l.context === 'PartitionKeeper' && l.level >= 50)).toEqual([]);
  });

  it('answers 503, naming the missing partition in the log, when the keeper falls behind; serves again once it catches up', async () => {
    const keeper = t.app.get(PartitionKeeper);
    await keeper.onModuleDestroy(); // the keeper stops turning: nothing adds partitions now
    const a = api(t);
    const issue = await a.createIssue(project.id, { name: 'Behind' });
    // rows written around the store fill the log up to its last partition's end
    const end = await lastEnd();
    for (let version = 1; (await head()) < end - 1; version++) {
      await pool.query(
        `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, occurred_at) VALUES ($1, 'filler', $2, 'filler', 1, '{}', '{}', '2026-03-01T10:00:00.000Z')`,
        [`filler-${version}`, version],
      );
    }
    const refused = await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: 'no room' });
    expect([refused.status, refused.body.type]).toEqual([503, 'urn:herald:problem:storage-unavailable']);
    expect(refused.body.detail).toMatch(/no partition of table events/);
    const outage = lines.find((l) => l.context === 'Storage' && l.event === 'storage-unavailable');
    expect(outage).toMatchObject({ reason: 'no-partition', code: '23514', msg: expect.stringMatching(/no partition of table events holds the new row/) });
    expect(lines.filter((l) => l.context === 'HTTP' && l.level >= 50)).toEqual([]); // not a 500

    // a keeper's turn (as a new one's, or the next minute's) makes room: the same command is taken
    await new PartitionKeeper(pool, t.app.get(EventStore), SPAN).turn();
    await until(async () => (await t.http.post(`/api/issues/${issue.id}/comments`).set(t.auth).send({ content: 'room again' })).status === 201, 'the comment taken');
    expect((await a.get(`/api/issues/${issue.id}/comments`)).map((c: { content: string }) => c.content)).toEqual(['room again']);
  });

  it("gives up a connection whose prepared claim no longer fits its table (a column added meanwhile): the next claim prepares it again", async () => {
    const database = t.config.database;
    if (database.kind !== 'postgres') throw new Error('this suite runs on PostgreSQL');
    // one connection: the claim after the change runs where the claim before it was prepared
    const one = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      const queue = new DeliveryQueue(new PostgresEventStore(one, systemClock, new UpcasterRegistry()), t.config, new ThisInstance());
      for (let i = 0; i < 6; i++) expect(await queue.claim(999_999, false)).toEqual([]);
      await pool.query(`ALTER TABLE webhook_deliveries ADD COLUMN added_meanwhile TEXT`);
      try {
        await expect(queue.claim(999_999, false)).rejects.toThrow(/cached plan must not change result type/);
        expect(await queue.claim(999_999, false)).toEqual([]);
      } finally {
        await pool.query(`ALTER TABLE webhook_deliveries DROP COLUMN added_meanwhile`);
      }
    } finally {
      await one.end();
    }
  });
});
