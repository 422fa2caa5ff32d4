import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type Database from 'better-sqlite3';
import type { HeraldConfig } from '../config/config.js';
import { migrations } from './migrations/index.js';

/** The read-model tables a projection rebuild empties and refills. */
export const READ_MODEL_TABLES = ['rm_users', 'rm_api_tokens', 'rm_projects', 'rm_project_members', 'rm_issues', 'rm_comments', 'rm_webhooks'];

export function dataSourceOptions(database: HeraldConfig['database']): DataSourceOptions {
  mkdirSync(dirname(database.path), { recursive: true });
  return {
    type: 'better-sqlite3',
    database: database.path,
    // busy timeout: another process (the CLI, a second instance) may hold the write lock briefly
    timeout: 5000,
    enableWAL: true,
    prepareDatabase: (db: Database.Database) => {
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

export async function openDataSource(database: HeraldConfig['database']): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(database));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

/** The better-sqlite3 handle behind TypeORM's driver: write transactions run on it synchronously. */
export function sqliteHandle(ds: DataSource): Database.Database {
  return (ds.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
}
