import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { migrations } from '../../src/database/migrations/index.js';
import { tempDir } from '../support/test-app.js';
import { SQLITE_SCHEMA } from './expected-schema.js';

async function columns(ds: DataSource): Promise<Record<string, Record<string, string>>> {
  const schema: Record<string, Record<string, string>> = {};
  for (const table of await tables(ds)) {
    if (table === 'migrations') continue;
    const cols: { name: string; type: string }[] = await ds.query(`PRAGMA table_info(${table})`);
    schema[table] = Object.fromEntries(cols.map((c) => [c.name, c.type]));
  }
  return schema;
}

async function tables(ds: DataSource): Promise<string[]> {
  const rows: { name: string }[] = await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`);
  return rows.map((r) => r.name);
}

describe('migrations on SQLite', () => {
  let dir: string;
  let ds: DataSource;

  beforeEach(async () => {
    dir = tempDir('herald-migrations-');
    ds = new DataSource(dataSourceOptions({ kind: 'sqlite', path: join(dir, 'herald.sqlite') }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
  });

  afterEach(async () => {
    if (ds.isInitialized) await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates every table and column', async () => {
    expect(await columns(ds)).toEqual(SQLITE_SCHEMA);
    const applied: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => new m().name));
  });

  it('keeps the SQLite DDL of the released migrations as it was (databases in use ran it)', async () => {
    // the schema as SQLite stores it; subscription_checkpoints shows the column the third migration added
    const rows: { type: string; name: string; sql: string }[] = await ds.query(
      `SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT IN ('migrations', 'sqlite_sequence') ORDER BY type, name`,
    );
    expect(rows.map((r) => `-- ${r.type} ${r.name}\n${r.sql}`).join('\n')).toMatchSnapshot();
  });

  it('undoes every migration: only TypeORM\'s own table is left, and they apply again', async () => {
    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await tables(ds)).toEqual(['migrations']);
    expect(await ds.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name <> 'migrations'`)).toEqual([]);
    expect(await ds.query(`SELECT name FROM migrations`)).toEqual([]);
    await ds.runMigrations({ transaction: 'each' });
    expect(await columns(ds)).toEqual(SQLITE_SCHEMA);
  });
});
