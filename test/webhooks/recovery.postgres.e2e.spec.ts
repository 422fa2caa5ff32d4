import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { ChildHerald } from '../support/child-herald.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { caller, until } from '../support/process-calls.js';
import { LOCAL_WEBHOOK_ENV } from '../support/receiver.js';

/**
 * Three instances on one PostgreSQL database, every one with deliveries claimed and
 * requests in flight; one is SIGKILLed. The deliveries it held are sent by the others
 * within 15 s (its heartbeat stops, they free its leases; the leases themselves would run
 * for 32 s and more), each answered exactly once, never two requests of one delivery at once.
 */

const TOKEN = 'recovery-pg-admin-token-0123456789';
const WEBHOOKS = 6;
const ISSUES = 20;
const TOTAL = WEBHOOKS * ISSUES;

/** Holds every request open while `hanging`; afterwards answers 200 at once. Counts 2xx per webhook-id and overlapping requests. */
class Endpoint {
  hanging = true;
  readonly answered = new Map<string, number>();
  readonly answeredAt = new Map<string, number>();
  readonly overlaps: string[] = [];
  private readonly open = new Map<ServerResponse, string>();
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        if ([...this.open.values()].includes(id)) this.overlaps.push(id);
        this.open.set(res, id);
        // the sender went away (killed): that attempt is over
        res.on('close', () => this.open.delete(res));
        if (!this.hanging) this.answer(res);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** How many requests are held open now. */
  get held(): number {
    return this.open.size;
  }

  /** The webhook-ids of the requests held open now. */
  heldIds(): Set<string> {
    return new Set(this.open.values());
  }

  /** Answers what is held (the senders still alive) and every request from now on. */
  release(): void {
    this.hanging = false;
    for (const res of [...this.open.keys()]) this.answer(res);
  }

  private answer(res: ServerResponse): void {
    const id = this.open.get(res)!;
    this.open.delete(res);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0}');
    this.answered.set(id, (this.answered.get(id) ?? 0) + 1);
    this.answeredAt.set(id, Date.now());
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => this.server?.close(() => done()));
  }
}

const call = caller(TOKEN);

describe('an instance killed with deliveries in flight (PostgreSQL, three instances)', () => {
  let database: TestDatabase | undefined;
  let db: pg.Client | undefined;
  let endpoint: Endpoint | undefined;
  const heralds: ChildHerald[] = [];
  afterAll(async () => {
    await Promise.allSettled(heralds.map((h) => h.kill()));
    await endpoint?.stop();
    await db?.end().catch(() => undefined);
    await database?.drop().catch(() => undefined);
  });

  it('its deliveries are sent by the others within 15 s, each exactly once', async () => {
    database = await createTestDatabase();
    endpoint = await new Endpoint().start();
    const env = {
      ...LOCAL_WEBHOOK_ENV,
      HERALD_BACKGROUND_WORKERS: 'true',
      DATABASE_URL: database.url,
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
      HERALD_RATE_LIMIT_PER_MINUTE: '0',
      // no attempt ends by itself meanwhile, and leases run from 32 s up
      WEBHOOK_TIMEOUT_MS: '30000',
    };
    for (let i = 0; i < 3; i++) heralds.push(new ChildHerald(env));
    await heralds[0].start();
    await Promise.all([heralds[1].start(), heralds[2].start()]);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();

    const base = heralds[1].base;
    const project = await call(base, 'POST', '/api/projects', { name: 'Recovery' });
    for (let w = 0; w < WEBHOOKS; w++) {
      await call(base, 'POST', `/api/projects/${project.id}/webhooks`, { type: 'CUSTOM', name: `w${w}`, url: `http://127.0.0.1:${endpoint.port}/hook/${w}`, activityTypes: ['bb.issue.create'] });
    }
    for (let i = 0; i < ISSUES; i++) await call(heralds[i % 3].base, 'POST', `/api/projects/${project.id}/issues`, { name: `issue ${i}`, type: 'bb.issue.general' });

    // every delivery created; each instance holds some, with a request in flight
    const count = async (sql: string, params: unknown[] = []) => Number((await db!.query<{ n: string }>(sql, params)).rows[0].n);
    await until(async () => (await count(`SELECT COUNT(*) AS n FROM webhook_deliveries`)) === TOTAL, 'every delivery', 60_000);
    const holders = async () =>
      (
        await db!.query<{ pid: string; n: string }>(
          `SELECT i.pid, COUNT(d.id) AS n FROM herald_instances i LEFT JOIN webhook_deliveries d ON d.lease_owner = i.id AND d.status = 'DELIVERING' GROUP BY i.pid`,
        )
      ).rows.map((r) => ({ pid: Number(r.pid), held: Number(r.n) }));
    await until(async () => (await holders()).filter((h) => h.held > 0).length === 3 && endpoint!.held >= 3, 'deliveries claimed and in flight on every instance', 60_000);

    // the one holding the most dies
    const victim = (await holders()).sort((a, b) => b.held - a.held)[0];
    const killed = heralds.find((h) => h.pid === victim.pid)!;
    const { rows } = await db.query<{ id: string }>(
      `SELECT d.id FROM webhook_deliveries d JOIN herald_instances i ON d.lease_owner = i.id WHERE i.pid = $1 AND d.status = 'DELIVERING'`,
      [victim.pid],
    );
    const held = rows.map((r) => r.id);
    expect(held.length).toBeGreaterThan(1);
    await killed.kill();
    const killedAt = Date.now();
    // the kernel closed the dead process's connections as it exited, but this process may see the
    // exit before those closes: answering first would count answers that nobody received
    await until(() => held.every((id) => !endpoint!.heldIds().has(id)), 'the killed instance\'s requests closed', 10_000);
    endpoint.release();

    await until(() => held.every((id) => endpoint!.answered.has(id)), 'the killed instance\'s deliveries', 30_000);
    const lastAt = Math.max(...held.map((id) => endpoint!.answeredAt.get(id)!));
    if (process.env.HERALD_TEST_TIMING) process.stderr.write(`recovery (PostgreSQL): the ${held.length} deliveries of the killed instance sent within ${lastAt - killedAt} ms\n`);
    expect(lastAt - killedAt).toBeLessThan(15_000);

    await until(async () => (await count(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'DELIVERED'`)) === TOTAL, 'every delivery recorded as delivered', 60_000);
    // nothing is sent any more once every sender has ended: the killed one is gone, and the others stop letting
    // what they have in flight finish (so a straggler would have been answered and counted by now)
    for (const h of heralds.filter((h) => h !== killed)) expect(await h.stop()).toBe(0);
    expect(endpoint.answered.size).toBe(TOTAL);
    expect([...endpoint.answered].filter(([, n]) => n !== 1)).toEqual([]);
    expect(endpoint.overlaps).toEqual([]);
  }, 180_000);
});
