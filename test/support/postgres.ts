import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for the tests. The jest globalSetup (test/support/postgres-global-setup.ts)
 * makes sure DATABASE_URL_POSTGRES holds an admin URL of a running server before any
 * worker starts: the one the caller gave (DATABASE_URL_POSTGRES, or DATABASE_URL when it
 * is a postgres:// URL), else an embedded PostgreSQL started for this run. Every suite
 * then takes databases of its own from it with createTestDatabase().
 *
 * Note for queries in tests: `pg` returns BIGINT (int8) columns as strings (ids,
 * positions and epoch milliseconds are BIGINT on PostgreSQL) unless a type parser is set
 * with pg.types.setTypeParser(20, ...); JSONB columns come back parsed.
 */
export const POSTGRES_URL_VAR = 'DATABASE_URL_POSTGRES';
/** Set by the globalSetup: databases named after it are dropped at the end of the run (names repeated there). */
export const POSTGRES_RUN_VAR = 'HERALD_TEST_PG_RUN';
export const TEST_DATABASE_PREFIX = 'herald_t_';

export function postgresAdminUrl(): string {
  const url = process.env[POSTGRES_URL_VAR];
  if (!url) {
    throw new Error(
      `${POSTGRES_URL_VAR} is not set: run the tests with jest (its globalSetup starts an embedded PostgreSQL), ` +
        `or set ${POSTGRES_URL_VAR} to the URL of a server where this user may CREATE DATABASE`,
    );
  }
  return url;
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

let counter = 0;
const fallbackRun = randomBytes(4).toString('hex');

export interface TestDatabase {
  /** postgres:// URL of the new, empty database (DATABASE_URL for Herald). */
  url: string;
  name: string;
  /** Drops it, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl(), application_name: 'herald-tests' });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database with a name no other worker or run uses (suites run in parallel
 * workers against one server).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const run = process.env[POSTGRES_RUN_VAR] ?? fallbackRun;
  const name = `${TEST_DATABASE_PREFIX}${run}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  let dropped = false;
  return {
    name,
    url: withDatabase(postgresAdminUrl(), name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin(async (client) => {
        // connections still closing (a pool whose end() has resolved may still be saying goodbye) are let go first:
        // FORCE terminates them, and a pool's idle client that hears it emits an error nobody listens to any more
        const open = async () => (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [name])).rows[0].n;
        for (const deadline = Date.now() + 2000; (await open()) > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      });
    },
  };
}
