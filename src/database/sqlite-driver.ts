import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The better-sqlite3 module for the running Node.js, chosen once at load.
 *
 * better-sqlite3 12 (TypeORM 1.1's declared peer) uses the raw V8/ObjectWrap API: on
 * Node.js 24 and later its Statement destructor, run by the garbage collector, can abort
 * the process (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook,
 * WiseLibs/better-sqlite3#1515). better-sqlite3 13 is built on Node-API and fixes that,
 * but needs Node.js 22 (on 20 it crashes). So: Node.js 22 and later load 13, installed
 * as the optional dependency `better-sqlite3-napi` (npm skips it on Node.js 20, whose
 * engines it does not match), and Node.js 20 loads 12. Both have the same API; TypeORM
 * receives the chosen module through its `driver` option.
 */
export type SqliteDatabase = BetterSqlite3.Database;
export type SqliteStatement = BetterSqlite3.Statement;
export type SqliteModule = typeof BetterSqlite3;

const require = createRequire(import.meta.url);

export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** The package name this Node.js loads, and why. */
export function sqliteDriverName(nodeMajor = NODE_MAJOR, napiInstalled = isInstalled('better-sqlite3-napi')): string {
  if (nodeMajor < 22) return 'better-sqlite3';
  if (napiInstalled) return 'better-sqlite3-napi';
  if (nodeMajor >= 24) {
    throw new Error(
      `Node.js ${process.versions.node} needs better-sqlite3 13 (the optional dependency better-sqlite3-napi), which is not installed: ` +
        'run `npm ci` again with this Node.js (it was probably installed with Node.js 20)',
    );
  }
  // Node.js 22 runs 12 safely: an install made with Node.js 20 still works here
  return 'better-sqlite3';
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Where the chosen module is (a worker thread loads the same one). */
export const sqliteModulePath: string = require.resolve(sqliteDriverName());

/** The chosen module: TypeORM's `driver` option takes it. */
export const sqliteModule: SqliteModule = require(sqliteModulePath) as SqliteModule;

/** Opens a database file (or ':memory:') with the chosen module. */
export function openSqlite(path: string, options?: BetterSqlite3.Options): SqliteDatabase {
  return new sqliteModule(path, options);
}
