import { openSqlite, type SqliteDatabase } from './sqlite-driver.js';

/**
 * One process per SQLite database: an exclusive lock on a file beside it (`<database>.lock`),
 * held for the life of the process. The operating system drops it when the process ends,
 * however it ends (SIGKILL included), so a restarted process takes it at once, and while
 * one process lives no other can. The lock is SQLite's own (a transaction left open on an
 * empty database), so it behaves like the database's locks on every platform SQLite runs on.
 */
export class SqliteProcessLock {
  private constructor(private readonly handle: SqliteDatabase) {}

  /** The lock, or null when another process (or another app in this one) holds it. */
  static acquire(databasePath: string): SqliteProcessLock | null {
    const handle = openSqlite(`${databasePath}.lock`, { timeout: 0 });
    try {
      handle.exec('BEGIN EXCLUSIVE');
      return new SqliteProcessLock(handle);
    } catch (error) {
      handle.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return null;
      throw error;
    }
  }

  release(): void {
    if (!this.handle.open) return;
    this.handle.exec('ROLLBACK');
    this.handle.close();
  }
}
