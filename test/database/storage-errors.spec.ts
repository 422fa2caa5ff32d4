import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { asStorageError, storageFault, StorageUnavailableError } from '../../src/database/storage-errors.js';
import { openSqlite, sqliteModule } from '../../src/database/sqlite-driver.js';
import { toProblem } from '../../src/http/problem.js';
import { conflict } from '../../src/shared/errors.js';
import { postgresAdminUrl, withDatabase } from '../support/postgres.js';
import { tempDir } from '../support/test-app.js';

/** The error a call throws (it must throw). */
async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('storage errors: which errors mean "storage cannot serve now"', () => {
  describe('SQLite, with the errors SQLite itself raises', () => {
    const dir = tempDir('herald-storage-errors-');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a database that cannot grow (SQLITE_FULL) is a full disk', async () => {
      const db = openSqlite(join(dir, 'full.sqlite'));
      db.exec('CREATE TABLE t (v TEXT)');
      // SQLite answers a database at its page limit exactly as one whose disk is full
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
      const error = await thrown(() => db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(20_000)));
      expect((error as { code: string }).code).toBe('SQLITE_FULL');
      expect(storageFault(error)).toEqual({ kind: 'disk-full', detail: 'the database disk is full', code: 'SQLITE_FULL' });
      db.close();
    });

    it('the write lock held by another connection past the busy timeout (SQLITE_BUSY) is busy', async () => {
      const path = join(dir, 'busy.sqlite');
      const holder = openSqlite(path);
      holder.exec('CREATE TABLE t (v TEXT)');
      holder.exec('BEGIN IMMEDIATE');
      const other = openSqlite(path, { timeout: 10 });
      const error = await thrown(() => other.exec('BEGIN IMMEDIATE'));
      expect(storageFault(error)).toMatchObject({ kind: 'busy', code: 'SQLITE_BUSY' });
      holder.exec('ROLLBACK');
      holder.close();
      other.close();
    });

    it('a database that refuses writes (SQLITE_READONLY) is read-only; one that cannot be opened (SQLITE_CANTOPEN) unreachable', async () => {
      const path = join(dir, 'ro.sqlite');
      openSqlite(path).exec('CREATE TABLE t (v TEXT)');
      const readonly = openSqlite(path, { readonly: true });
      expect(storageFault(await thrown(() => readonly.exec(`INSERT INTO t VALUES ('x')`)))).toMatchObject({ kind: 'read-only', code: 'SQLITE_READONLY' });
      readonly.close();
      const queryOnly = openSqlite(path);
      queryOnly.pragma('query_only = 1');
      expect(storageFault(await thrown(() => queryOnly.exec(`INSERT INTO t VALUES ('x')`)))).toMatchObject({ kind: 'read-only' });
      queryOnly.close();
      // a folder where the database file should be
      expect(storageFault(await thrown(() => openSqlite(dir)))).toMatchObject({ kind: 'unreachable', code: 'SQLITE_CANTOPEN' });
    });

    it('every extended I/O error code (SQLITE_IOERR_*) is an I/O error', () => {
      for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_IOERR_SHORT_READ']) {
        expect(storageFault(new sqliteModule.SqliteError('disk I/O error', code))).toMatchObject({ kind: 'io-error', code });
      }
    });

    it('what the caller or the code did wrong is none: a constraint, a syntax error', async () => {
      const db = openSqlite(':memory:');
      db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
      db.exec(`INSERT INTO t VALUES ('x')`);
      expect(storageFault(await thrown(() => db.exec(`INSERT INTO t VALUES ('x')`)))).toBeUndefined();
      expect(storageFault(await thrown(() => db.exec(`SELEKT 1`)))).toBeUndefined();
      db.close();
    });
  });

  describe('PostgreSQL, with the errors the server and node-postgres raise', () => {
    const admin = () => new pg.Client({ connectionString: postgresAdminUrl(), application_name: 'herald-tests' });

    it('a server that refuses connections (ECONNREFUSED) is unreachable', async () => {
      // a port nobody listens on: the one of a server just closed
      const { createServer } = await import('node:net');
      const port = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      });
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'x', password: 'x', database: 'x' });
      const error = await thrown(() => client.connect());
      expect(storageFault(error)).toEqual({ kind: 'unreachable', detail: 'the database server refuses connections (is it running?)', code: 'ECONNREFUSED' });
    });

    it('a session ended by the server (57P01), and the connection lost after it, are storage faults', async () => {
      const victim = admin();
      const killer = admin();
      await victim.connect();
      await killer.connect();
      try {
        const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        // the server's FATAL, then the socket closing: both arrive as 'error' events
        const ended = new Promise<Error>((resolve) => victim.on('error', resolve));
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        const terminated = await ended;
        expect((terminated as { code?: string }).code).toBe('57P01');
        expect(storageFault(terminated)).toMatchObject({ kind: 'shutting-down', code: '57P01' });
        expect(storageFault(await thrown(() => victim.query('SELECT 1')))).toMatchObject({ kind: 'unreachable', code: 'CONNECTION_LOST' });
      } finally {
        await killer.end();
        await victim.end().catch(() => undefined);
      }
    });

    it('a role out of connections (53300), a read-only transaction (25006): the server’s own errors', async () => {
      const setup = admin();
      await setup.connect();
      const role = `herald_t_limited_${process.pid}`;
      try {
        await setup.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited' CONNECTION LIMIT 0`);
        const url = new URL(postgresAdminUrl());
        url.username = role;
        url.password = 'limited';
        const limited = new pg.Client({ connectionString: url.toString() });
        expect(storageFault(await thrown(() => limited.connect()))).toMatchObject({ kind: 'too-many-connections', code: '53300' });
        await setup.query('BEGIN READ ONLY');
        expect(storageFault(await thrown(() => setup.query('CREATE TEMP TABLE t (v int)')))).toMatchObject({ kind: 'read-only', code: '25006' });
        await setup.query('ROLLBACK');
      } finally {
        await setup.query(`DROP ROLE IF EXISTS ${role}`);
        await setup.end();
      }
    });

    it('a row no partition holds (23514, from the server) is no-partition, naming the table; another check violation is none', async () => {
      const setup = admin();
      await setup.connect();
      try {
        await setup.query(`CREATE TEMP TABLE ranged (pos BIGINT NOT NULL CHECK (pos <> 5)) PARTITION BY RANGE (pos)`);
        await setup.query(`CREATE TEMP TABLE ranged_low PARTITION OF ranged FOR VALUES FROM (1) TO (11)`);
        const noPartition = await thrown(() => setup.query('INSERT INTO ranged VALUES (11)'));
        expect(storageFault(noPartition)).toEqual({
          kind: 'no-partition',
          detail: "no partition of table ranged holds the new row: the partitions ahead of the log are missing (see the partition keeper's log)",
          code: '23514',
        });
        expect(toProblem(asStorageError(noPartition))).toMatchObject({ status: 503, type: 'urn:herald:problem:storage-unavailable' });
        const check = await thrown(() => setup.query('INSERT INTO ranged VALUES (5)'));
        expect((check as { code: string }).code).toBe('23514');
        expect(storageFault(check)).toBeUndefined();
      } finally {
        await setup.end();
      }
    });

    it('a pool whose connections are all taken past its connection timeout is a pool timeout', async () => {
      // a second is both the longest a query waits for the taken connection and ample for opening it on a busy machine
      const pool = new pg.Pool({ connectionString: withDatabase(postgresAdminUrl(), 'postgres'), max: 1, connectionTimeoutMillis: 1000 });
      const held = await pool.connect();
      try {
        expect(storageFault(await thrown(() => pool.query('SELECT 1')))).toMatchObject({ kind: 'pool-timeout' });
      } finally {
        held.release();
        await pool.end();
      }
    });

    it('the server’s disk full (53100) and "cannot connect now" (57P03), as the server words them; a unique violation is none', () => {
      const serverError = (code: string, message: string) => Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code });
      expect(storageFault(serverError('53100', 'could not extend file "base/16384/16385": No space left on device'))).toMatchObject({ kind: 'disk-full', code: '53100' });
      expect(storageFault(serverError('57P03', 'the database system is starting up'))).toMatchObject({ kind: 'shutting-down', code: '57P03' });
      expect(storageFault(serverError('23505', 'duplicate key value violates unique constraint'))).toBeUndefined();
    });
  });

  it('finds a fault inside what wraps it: TypeORM’s QueryFailedError, an AggregateError of each address tried, a cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(storageFault(new QueryFailedError('SELECT 1', [], refused))).toMatchObject({ code: 'ECONNREFUSED' });
    expect(storageFault(new AggregateError([refused, refused], 'all addresses failed'))).toMatchObject({ code: 'ECONNREFUSED' });
    expect(storageFault(new Error('outer', { cause: refused }))).toMatchObject({ code: 'ECONNREFUSED' });
    expect(storageFault(new Error('a bug'))).toBeUndefined();
    expect(storageFault(conflict('taken'))).toBeUndefined();
    expect(storageFault('SQLITE_FULL')).toBeUndefined();
  });

  it('asStorageError wraps a fault once and leaves anything else as it is', () => {
    const full = new sqliteModule.SqliteError('database or disk is full', 'SQLITE_FULL');
    const wrapped = asStorageError(full) as StorageUnavailableError;
    expect(wrapped).toBeInstanceOf(StorageUnavailableError);
    expect(wrapped.cause).toBe(full);
    expect(wrapped.message).toBe('storage unavailable: the database disk is full (SQLITE_FULL)');
    expect(asStorageError(wrapped)).toBe(wrapped);
    const bug = new TypeError('x is undefined');
    expect(asStorageError(bug)).toBe(bug);
  });

  it('is answered 503 storage-unavailable, saying whether the change may have been applied', () => {
    const full = new sqliteModule.SqliteError('database or disk is full', 'SQLITE_FULL');
    expect(toProblem(asStorageError(full))).toEqual({
      type: 'urn:herald:problem:storage-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'storage unavailable: the database disk is full; nothing was changed; retry later',
      retryAfter: 1,
    });
    // a raw error that reached the edge unwrapped is recognised too
    expect(toProblem(full).status).toBe(503);
    const lost = new Error('Connection terminated unexpectedly');
    expect(toProblem(asStorageError(lost, true)).detail).toMatch(/lost while the change was being committed, so it may have been applied/);
    expect(toProblem(new Error('a bug')).status).toBe(500);
  });
});
