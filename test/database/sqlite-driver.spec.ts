import { createRequire } from 'node:module';
import { NODE_MAJOR, openSqlite, sqliteDriverName, sqliteModule } from '../../src/database/sqlite-driver.js';

describe('the SQLite driver for the running Node.js', () => {
  it('is better-sqlite3 12 on Node.js 20, and 13 (better-sqlite3-napi) on 22 and later where it is installed', () => {
    expect(sqliteDriverName(20, true)).toBe('better-sqlite3');
    expect(sqliteDriverName(20, false)).toBe('better-sqlite3');
    expect(sqliteDriverName(22, true)).toBe('better-sqlite3-napi');
    expect(sqliteDriverName(24, true)).toBe('better-sqlite3-napi');
    expect(sqliteDriverName(26, true)).toBe('better-sqlite3-napi');
    // an install made with Node.js 20 (npm skipped 13) still runs on 22, whose 12 is safe
    expect(sqliteDriverName(22, false)).toBe('better-sqlite3');
  });

  it('refuses better-sqlite3 12 on Node.js 24 and later, saying what to do', () => {
    expect(() => sqliteDriverName(24, false)).toThrow(/needs better-sqlite3 13.*run `npm ci` again with this Node.js/);
  });

  it('loads the major version its Node.js needs, and it works', () => {
    const require = createRequire(import.meta.url);
    const expected = NODE_MAJOR >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';
    // the package this install holds for this Node.js (npm ci installs 13 on 22 and later)
    expect(sqliteModule).toBe(require(expected));
    expect((require(`${expected}/package.json`) as { version: string }).version).toMatch(NODE_MAJOR >= 22 ? /^13\./ : /^12\./);
    const db = openSqlite(':memory:');
    try {
      expect(db.prepare('SELECT 1 + 1 AS two').get()).toEqual({ two: 2 });
    } finally {
      db.close();
    }
  });
});
