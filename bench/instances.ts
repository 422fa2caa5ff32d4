/**
 * Deliveries per second with 1, 2 and 3 Herald instances on one PostgreSQL database
 * (issue 4): how delivery scales across processes on this machine; ./instances-pinned.ts adds the same rounds pinned
 * to cores (issue 26). A round is ./instance-round.ts.
 *
 * PostgreSQL: DATABASE_URL_POSTGRES when set (a user who may CREATE DATABASE), else an
 * embedded one started like the tests' (test/support/postgres-global-setup.ts) but with
 * the server's default durability (fsync, synchronous_commit, full_page_writes on).
 */
import { Pool } from 'undici';
import { startEmbedded } from '../test/support/postgres-global-setup.js';
import { fmt, ISSUES, round, TOTAL, WEBHOOKS, type BenchPostgres, type RoundResult, type SentRequest } from './instance-round.js';
import { pinnedRows } from './instances-pinned.js';
import { startReceiver } from './receiver-process.js';
import type { Row } from './webhooks.js';

/** The same POSTs, raw, one loop per webhook (concurrency 50), as the baseline of the 1-instance row. */
async function rawRate({ headers, body }: SentRequest): Promise<number> {
  const receiver = await startReceiver();
  const raw = new Pool(`http://127.0.0.1:${receiver.port}`, { connections: WEBHOOKS });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WEBHOOKS }, async (_, w) => {
      for (let i = 0; i < ISSUES; i++) {
        const res = await raw.request({ path: `/hook/${w}`, method: 'POST', headers, body });
        await res.body.text();
      }
    }),
  );
  const rate = TOTAL / ((performance.now() - start) / 1000);
  await raw.close();
  receiver.stop();
  return rate;
}

export async function instances(): Promise<Row[]> {
  const given = process.env.DATABASE_URL_POSTGRES;
  const server: BenchPostgres = given ? { url: given, stop: async () => undefined } : await startEmbedded('bench-instances', { durable: true });
  try {
    const results: ({ n: number } & RoundResult)[] = [];
    for (const n of [1, 2, 3]) results.push({ n, ...(await round(server, n)) });
    const raw = await rawRate(results[0].request);
    const one = results[0];
    const twice = (r: { received: number }) => (r.received > TOTAL ? ` (${r.received - TOTAL} sent twice)` : '');
    const trips = (r: { roundTrips: number }) => `${r.roundTrips.toFixed(2)} round trips per delivery`;
    const pinned = await pinnedRows(server, one);
    return [
      {
        name: `(g) PostgreSQL deliveries/s, 1 instance, ${WEBHOOKS} webhooks (${TOTAL} deliveries)`,
        herald: `${fmt(one.rate)} (${trips(one)})${twice(one)}`,
        baseline: `${fmt(raw)} raw undici POSTs of the same request (${results[0].request.body.length} bytes), concurrency ${WEBHOOKS}`,
        ratio: one.rate / raw,
        target: 0.5,
        note:
          'queue filled first, then every delivery made due at one instant; durable PostgreSQL (fsync on) on the same machine, default pool (HERALD_PG_POOL_SIZE=10) and WEBHOOK_CONCURRENCY=64. ' +
          'Round trips: every statement the instances sent from just before that instant until every delivery was recorded (herald_database_round_trips_total of each, scraped), divided by the deliveries. ' +
          'A delivery costs its share of a claim of up to 50 (one UPDATE … RETURNING in a transaction: BEGIN with SET LOCAL synchronous_commit, the statement, COMMIT) and of a record transaction ' +
          'for whatever attempts ended meanwhile (BEGIN, the failure runs locked and read, the deliveries updated, the attempts inserted, the runs written, COMMIT); the webhook configuration is in memory',
      },
      {
        name: `(g) PostgreSQL round trips per delivery, 1 instance`,
        herald: one.roundTrips.toFixed(2),
        baseline: 'target at most 3',
        ratio: 3 / one.roundTrips,
        target: 1,
        note: 'ratio column: 3 / round trips per delivery (1 = the target of 3 met exactly)',
      },
      ...results.slice(1).map((r) => ({
        name: `(g) PostgreSQL deliveries/s, ${r.n} instances on one database (${TOTAL} deliveries)`,
        herald: `${fmt(r.rate)} (${trips(r)})${twice(r)}`,
        baseline: `${fmt(one.rate)} with 1 instance (same run)`,
        ratio: r.rate / one.rate,
        target: 1,
        note:
          r.n > 2
            ? 'as with 2 instances; a third process shares the same 2 cores'
            : 'ratio = scaling over one instance (target 1: another instance does not slow delivery down). On 2 cores shared with PostgreSQL and the receiver, another ' +
              'instance adds processes and connections (10 each) rather than CPU; the pinned rows say what a second instance costs and bound what it could add',
      })),
      ...pinned,
    ];
  } finally {
    await server.stop();
  }
}
