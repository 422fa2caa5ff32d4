import pg from 'pg';
import { openSqlite } from '../../src/database/sqlite-driver.js';

/**
 * Reads the database of a Herald (in this process or another, running or stopped) at its DATABASE_URL, with a
 * connection of its own; `?` placeholders on both engines.
 */
export async function queryDatabase<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  if (url.startsWith('sqlite:')) {
    const db = openSqlite(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let n = 0;
    return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  } finally {
    await client.end();
  }
}
