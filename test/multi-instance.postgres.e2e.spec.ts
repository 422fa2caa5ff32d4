import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { DeliveryDispatcher } from '../src/webhooks/delivery/dispatcher.js';
import { ChildHerald } from './support/child-herald.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { LOCAL_WEBHOOK_ENV } from './support/receiver.js';

/**
 * Issue 4, multi-instance: three Herald processes on one PostgreSQL database, 500 issues
 * (each with a one-stage, one-task pipeline) and their task transitions sent round-robin
 * to all three while a Custom receiver counts deliveries; the instance that consumes the
 * log (the first one started) is killed with SIGKILL midway. At the end every expected
 * delivery arrived, each was created once, and the receiver never saw two concurrent
 * attempts of one delivery.
 *
 * Runs only in the jest project `postgres` (jest.config.js: the `sqlite` project ignores
 * *.postgres.e2e.spec.ts): it takes a database of its own with createTestDatabase().
 */

const TOKEN = 'multi-instance-admin-token-0123456789';
const ISSUES = 500;
/** Issue flows in flight at once (each flow sends its commands one after another). */
const IN_FLIGHT = 10;
/** SIGKILL the consuming instance once this many flows have finished. */
const KILL_AFTER = ISSUES / 2;
const TRANSITIONS = ['PENDING', 'RUNNING', 'DONE'] as const;
const ACTIVITY_TYPES = ['bb.issue.create', 'bb.pipeline.task.status.update'];
/**
 * The receiver answers in 10–30 ms; a longer timeout keeps a stalled event loop on a loaded machine (the timer
 * fires before the answer is read) from counting as the endpoint's failures: four in a row rested the webhook
 * and held every delivery past the test's wait. The dead instance's leases are freed by its missed heartbeat.
 */
const TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Custom receiver that counts requests and 2xx answers per `webhook-id`, and records an
 * overlap whenever a request arrives for an id that another request still holds (the
 * answer comes after 10–30 ms, so overlapping attempts would be seen). It answers 500 to
 * the first attempt of about one delivery in twelve, never to two of the next five
 * requests after one (so the webhook's health never reaches its 4-failures-in-a-row rest).
 */
class CountingReceiver {
  readonly requests = new Map<string, number>();
  readonly delivered = new Map<string, number>();
  readonly overlaps: string[] = [];
  readonly refused = new Set<string>();
  /** 2xx answers per second (epoch seconds), for HERALD_TEST_TIMING. */
  readonly timeline = new Map<number, number>();
  private readonly inFlight = new Set<string>();
  private sinceRefusal = Number.POSITIVE_INFINITY;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      if (this.inFlight.has(id)) this.overlaps.push(id);
      this.inFlight.add(id);
      const n = (this.requests.get(id) ?? 0) + 1;
      this.requests.set(id, n);
      const refuse = n === 1 && createHash('sha256').update(id).digest()[0] % 12 === 0 && this.sinceRefusal >= 5;
      this.sinceRefusal = refuse ? 0 : this.sinceRefusal + 1;
      if (refuse) this.refused.add(id);
      let open = true;
      const finish = () => {
        if (!open) return;
        open = false;
        this.inFlight.delete(id);
      };
      // the sender went away (SIGKILL): the attempt is over for it
      res.on('close', finish);
      setTimeout(
        () => {
          if (res.destroyed) return finish();
          res.writeHead(refuse ? 500 : 200, { 'content-type': 'application/json' });
          res.end(refuse ? '{"code":1,"message":"try again"}' : '{"code":0,"message":""}');
          if (!refuse) {
            this.delivered.set(id, (this.delivered.get(id) ?? 0) + 1);
            const second = Math.floor(Date.now() / 1000);
            this.timeline.set(second, (this.timeline.get(second) ?? 0) + 1);
          }
          finish();
        },
        10 + Math.floor(Math.random() * 21),
      );
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

interface Reply {
  status: number;
  body: any;
}

/** No answer: the connection failed or was cut (the instance was killed), so the command may or may not have been applied. */
class NoAnswer extends Error {}

async function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    // (fetch's TypeError comes from another realm than the test's: instanceof TypeError would not match)
    throw new NoAnswer(`${method} ${path}: ${(error as Error).message} (${String((error as { cause?: unknown }).cause)})`);
  }
  return { status, body: text ? JSON.parse(text) : null };
}

describe('several Herald instances on one PostgreSQL database', () => {
  let database: TestDatabase | undefined;
  const heralds: ChildHerald[] = [];
  let receiver: CountingReceiver | undefined;
  let db: pg.Client | undefined;

  afterAll(async () => {
    // whatever happened: no process, server or connection outlives the suite
    await Promise.allSettled(heralds.map((h) => h.kill()));
    await receiver?.stop().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await database?.drop().catch(() => undefined);
  });

  it('three instances, one SIGKILLed midway: every delivery arrives, is created once, and is never attempted twice at once', async () => {
    const started = Date.now();
    database = await createTestDatabase();
    receiver = await new CountingReceiver().start();
    const env = {
      ...LOCAL_WEBHOOK_ENV,
      HERALD_BACKGROUND_WORKERS: 'true',
      DATABASE_URL: database.url,
      HERALD_ADMIN_TOKEN: TOKEN,
      // instances sharing one database share the key that seals webhook URLs and secrets
      HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
      HERALD_RATE_LIMIT_PER_MINUTE: '0',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,500ms,1s,1s,1s,1s,1s',
    };
    for (let i = 0; i < 3; i++) heralds.push(new ChildHerald(env));
    // the first one migrates the database and takes the subscription lease; the others join it
    await heralds[0].start();
    await Promise.all([heralds[1].start(), heralds[2].start()]);

    const project = (await call(heralds[1].base, 'POST', '/api/projects', { name: 'Multi' })).body;
    const webhook = (await call(heralds[2].base, 'POST', `/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: 'counter', url: receiver.url(), activityTypes: ACTIVITY_TYPES }))
      .body;
    expect(webhook.id).toBeDefined();

    // round-robin over the instances still alive
    const live = [0, 1, 2];
    let turn = 0;
    const next = () => heralds[live[turn++ % live.length]];
    let failedRequests = 0;

    /** A command that may hit the instance being killed: a network error leaves its outcome unknown, and it is retried elsewhere. */
    const accepted: { id: number; taskId: number }[] = [];
    const flow = async (n: number) => {
      let issue: any;
      for (;;) {
        try {
          const r = await call(next().base, 'POST', `/api/projects/${project.id}/issues`, {
            name: `multi ${n}`,
            type: 'bb.issue.general',
            pipeline: { stages: [{ name: 'prod', tasks: [{ name: `db-${n}` }] }] },
          });
          if (r.status !== 201) throw new Error(`create → ${r.status} ${JSON.stringify(r.body)}`);
          issue = r.body;
          break;
        } catch (error) {
          if (!(error instanceof NoAnswer)) throw error;
          failedRequests++; // may or may not have created an issue: the log says, below
        }
      }
      const taskId = issue.pipeline.stages[0].tasks[0].id as number;
      accepted.push({ id: issue.id, taskId });
      for (const status of TRANSITIONS) {
        let uncertain = false;
        for (;;) {
          try {
            const r = await call(next().base, 'POST', `/api/issues/${issue.id}/tasks/${taskId}/status`, { status });
            if (r.status === 200 || r.status === 201) break;
            if (!uncertain) throw new Error(`task → ${status}: ${r.status} ${JSON.stringify(r.body)}`);
          } catch (error) {
            if (!(error instanceof NoAnswer)) throw error;
            failedRequests++;
            uncertain = true;
          }
          // the attempt that failed may have committed: look before sending it again
          const now = await call(next().base, 'GET', `/api/issues/${issue.id}`);
          if (now.body.pipeline.stages[0].tasks[0].status === status) break;
        }
      }
    };

    let begun = 0;
    let finished = 0;
    let killedAt = 0;
    let failed = false;
    const killing = (async () => {
      while (finished < KILL_AFTER && !failed) await sleep(10);
      if (failed) return;
      // the first instance took the subscription lease at start: kill the consumer of the log, mid-delivery
      live.splice(live.indexOf(0), 1);
      await heralds[0].kill();
      killedAt = Date.now();
    })();
    try {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (begun < ISSUES && !failed) {
            await flow(begun++);
            finished++;
          }
        }),
      );
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await killing;
    }
    const sent = Date.now();

    // what the log holds (a command cut off by the kill may have committed): one delivery per such event
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows: expectedRows } = await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM events WHERE type IN ('issue.created', 'issue.task-status-changed')`);
    const expected = Number(expectedRows[0].n);
    expect(expected).toBeGreaterThanOrEqual(ISSUES * (1 + TRANSITIONS.length));
    expect(expected).toBeLessThanOrEqual(ISSUES * (1 + TRANSITIONS.length) + failedRequests);

    // wait (bounded) until every one is delivered and the receiver has every id
    const deadline = Date.now() + 60_000;
    const delivered = async () => Number((await db!.query<{ n: string }>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'DELIVERED'`)).rows[0].n);
    while ((await delivered()) < expected || receiver.delivered.size < expected) {
      if (Date.now() > deadline) {
        const { rows } = await db.query(`SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status`);
        throw new Error(`not everything was delivered in time: ${JSON.stringify(rows)}, receiver ${receiver.delivered.size}/${expected}`);
      }
      await sleep(100);
    }
    const done = Date.now();
    // stragglers (a reclaimed lease sending once more) would show now
    await sleep(300);

    // every delivery, through the API of a surviving instance, page by page
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await call(heralds[1].base, 'GET', `/api/projects/${project.id}/webhooks/${webhook.id}/deliveries?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      for (const d of page.body.items) {
        expect(d.status).toBe('DELIVERED');
        ids.push(d.id);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(expected);
    expect(new Set(ids).size).toBe(expected);

    // each (event, webhook) has exactly one delivery row
    const { rows: perEvent } = await db.query<{ events: string; with_one: string }>(
      `SELECT COUNT(*) AS events, COUNT(*) FILTER (WHERE (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_position = e.position AND d.webhook_id = $1) = 1) AS with_one
       FROM events e WHERE e.type IN ('issue.created', 'issue.task-status-changed')`,
      [webhook.id],
    );
    expect(Number(perEvent[0].with_one)).toBe(expected);

    // the receiver got every id (at least once), no other id, and never two attempts of one id at once
    expect(ids.filter((id) => !receiver!.delivered.has(id))).toEqual([]);
    const known = new Set(ids);
    expect([...receiver.requests.keys()].filter((id) => !known.has(id))).toEqual([]);
    expect(receiver.overlaps).toEqual([]);
    expect(receiver.refused.size).toBeGreaterThan(0); // retries happened
    for (const id of receiver.refused) expect(receiver.requests.get(id)).toBeGreaterThanOrEqual(2);

    // At least once: an id answered 2xx twice can only be one the killed instance had sent
    // (or was sending) without recording the outcome yet. Its one worker for this webhook
    // attempts its deliveries one after another, and sends the next while the records of
    // earlier successes are still committing, at most DeliveryDispatcher.RECORDS_AHEAD of
    // them: at most that many × the killed instance's workers for this webhook (1).
    const twice = [...receiver.delivered].filter(([, n]) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(DeliveryDispatcher.RECORDS_AHEAD);

    // nothing accepted was lost: every issue created is readable, its task DONE
    for (let i = 0; i < accepted.length; i += 25) {
      const slice = accepted.slice(i, i + 25);
      const read = await Promise.all(slice.map((a) => call(heralds[2].base, 'GET', `/api/issues/${a.id}`)));
      for (const r of read) {
        expect(r.status).toBe(200);
        expect(r.body.pipeline.stages[0].tasks[0].status).toBe('DONE');
      }
    }
    expect(accepted).toHaveLength(ISSUES);

    // the survivors stop cleanly
    expect(await heralds[1].stop()).toBe(0);
    expect(await heralds[2].stop()).toBe(0);
    const { rows: claimed } = await db.query(`SELECT id FROM webhook_deliveries WHERE status = 'DELIVERING'`);
    expect(claimed).toEqual([]);

    if (process.env.HERALD_TEST_TIMING) {
      process.stderr.write(
        `multi-instance: ${expected} deliveries; commands sent in ${sent - started} ms (kill at ${killedAt - started} ms), ` +
          `all delivered ${done - sent} ms later; ${twice.length} delivered twice, ${receiver.refused.size} refused once, ${failedRequests} requests cut off\n` +
          `timeline ${[...receiver.timeline].map(([s, n]) => `${s * 1000 - started}:${n}`).join(' ')}\n`,
      );
    }
    // 2,000 commands through three processes and 2,000 deliveries: 40–90 s on a quiet machine, and more than 120 s
    // on one whose two cores are shared with other suites (stress round 1, load 15); every wait inside is bounded by a condition
  }, 300_000);
});
