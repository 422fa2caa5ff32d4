import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { PARTITION_SPAN, type DatabaseConfig } from '../config/config.js';
import { migrations } from './migrations/index.js';
import { sqliteModule, type SqliteDatabase } from './sqlite-driver.js';

export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  if (database.kind === 'postgres') {
    return {
      type: 'postgres',
      url: database.url,
      // the same `pg` module the app imports: type parsers it sets (int8, see pg.types) apply to this pool too
      driver: pg,
      applicationName: 'herald',
      // node-postgres Pool options: at most this many connections per instance; a query waits at most
      // connectionTimeoutMillis for one (then fails as storage unavailable: a server gone, or every connection busy);
      // keepAlive notices idle connections to a server that vanished without closing them
      // (heraldPartitionSpan is Herald's own, for the migrations that make partitions, and heraldPreparedStatements
      // for the event store: node-postgres ignores both)
      extra: {
        max: database.poolSize,
        connectionTimeoutMillis: database.connectTimeoutMs ?? 5000,
        keepAlive: true,
        heraldPartitionSpan: database.partitionSpan ?? PARTITION_SPAN,
        heraldPreparedStatements: database.preparedStatements ?? true,
      },
      // no entities: nothing for TypeORM to install (uuid-ossp and the like)
      installExtensions: false,
      migrations,
      migrationsRun: false,
      synchronize: false,
      logging: ['error'],
    };
  }
  mkdirSync(dirname(database.path), { recursive: true });
  return {
    type: 'better-sqlite3',
    // the module for this Node.js (12 or 13): see sqlite-driver.ts
    driver: sqliteModule,
    database: database.path,
    // busy timeout: another process (the CLI, a second instance) may hold the write lock briefly
    timeout: 5000,
    enableWAL: true,
    prepareDatabase: (db: SqliteDatabase) => {
      // FULL (default): a command that got its 2xx survives a power cut, not only a
      // process crash; NORMAL trades the last commits before a power cut for speed
      db.pragma(`synchronous = ${database.synchronous ?? 'FULL'}`);
    },
    migrations,
    migrationsRun: false,
    synchronize: false,
    logging: ['error'],
  };
}

export async function openDataSource(database: DatabaseConfig): Promise<DataSource> {
  return initialize(dataSourceOptions(database));
}

/** Connects and migrates: what the service, the CLI and the tests do with every DataSource. */
export async function initialize(options: DataSourceOptions): Promise<DataSource> {
  const ds = new DataSource(options);
  await ds.initialize();
  // instances starting together on one PostgreSQL database migrate one after another
  await withDatabaseLock(ds, 'migrations', () => ds.runMigrations({ transaction: 'each' }));
  return ds;
}

/** Application-wide PostgreSQL advisory lock keys (their names hashed, so they stay readable here). */
const LOCK_NAMESPACE = 'herald:';

/**
 * Runs fn while holding a database-wide lock of this name (PostgreSQL: a session
 * advisory lock on a connection of its own), so several instances do it one at a time.
 * The connection is not one of the pool's: fn's queries take theirs from the pool, which
 * may hold a single one (HERALD_PG_POOL_SIZE=1). SQLite serves one process: fn just runs.
 */
export async function withDatabaseLock<T>(ds: DataSource, name: string, fn: () => Promise<T>): Promise<T> {
  if (ds.options.type !== 'postgres') return fn();
  // a connection of its own, not one of the pool's: fn needs the pool (it may have a single connection);
  // with the pool's own settings (URL, credentials, TLS)
  const client = new pg.Client(pgPool(ds).options);
  // a connection lost while held fails the query in progress: no 'error' event may go unheard
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [LOCK_NAMESPACE + name]);
    return await fn();
  } finally {
    // closing the session releases its advisory locks
    await client.end().catch(() => undefined);
  }
}

/** The better-sqlite3 handle behind TypeORM's driver: write transactions run on it synchronously. */
export function sqliteHandle(ds: DataSource): SqliteDatabase {
  return (ds.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
}

/**
 * The node-postgres pool behind TypeORM's postgres driver (its `master` pool, created on
 * initialize and ended on destroy): take a client from it for a transaction of your own.
 * Its size is DatabaseConfig.poolSize. Note that `pg` returns BIGINT (int8) columns as
 * strings unless `pg.types.setTypeParser(20, ...)` says otherwise.
 */
export function pgPool(ds: DataSource): pg.Pool {
  if (ds.options.type !== 'postgres') throw new Error(`pgPool needs a postgres DataSource (this one is ${ds.options.type})`);
  const pool = (ds.driver as PostgresDriver).master as pg.Pool | undefined;
  if (!pool) throw new Error('pgPool: the DataSource is not initialized');
  return pool;
}
