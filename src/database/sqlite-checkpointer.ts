import { Worker } from 'node:worker_threads';
import { sqliteModulePath, type SqliteDatabase } from './sqlite-driver.js';

/** What the worker runs: its own connection to the file, a passive checkpoint every `everyMs` (CommonJS: an eval'd worker has `require`). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.everyMs);
parentPort.postMessage({ ready: true });
`;

/**
 * WAL checkpoints off the event loop. SQLite copies the WAL back into the database file (a
 * checkpoint) when a commit leaves more than 1,000 pages in it, inside that COMMIT, on the
 * committing connection: with better-sqlite3 that is the event loop, held for tens to hundreds
 * of milliseconds (pages copied, the file synced) by whichever write crosses the line, a
 * replay's page as well as a comment. So the writer does none: a worker thread with a
 * connection of its own runs a passive checkpoint every EVERY_MS (passive: it never waits
 * for, nor blocks, the writer or the readers; what a reader still uses is copied next time).
 * Should the worker fail, the writer checkpoints itself again, as SQLite does by default.
 */
export class SqliteCheckpointer {
  static readonly EVERY_MS = 100;
  private readonly worker: Worker;
  private stopped = false;

  private constructor(private readonly writer: SqliteDatabase, onProblem: (message: string) => void) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { module: sqliteModulePath, path: writer.name, everyMs: SqliteCheckpointer.EVERY_MS } });
    // a background helper: it keeps no process alive
    this.worker.unref();
    this.worker.on('message', (message: { ready?: true; error?: string }) => {
      if (message.ready && !this.stopped) writer.pragma('wal_autocheckpoint = 0');
      if (message.error) onProblem(`a WAL checkpoint failed: ${message.error}`);
    });
    const fallBack = (reason: string) => {
      if (this.stopped) return;
      this.stopped = true;
      if (writer.open) writer.pragma('wal_autocheckpoint = 1000');
      onProblem(`the WAL checkpoint worker stopped (${reason}): the writer checkpoints itself again`);
    };
    this.worker.on('error', (error) => fallBack(error.message));
    this.worker.on('exit', (code) => fallBack(`exit code ${code}`));
  }

  /** For a database file in WAL mode (an in-memory one has no WAL). */
  static start(writer: SqliteDatabase, onProblem: (message: string) => void): SqliteCheckpointer | null {
    if (writer.memory || String(writer.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return null;
    return new SqliteCheckpointer(writer, onProblem);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.worker.terminate();
    // whoever writes next (a CLI on the same file, this connection until it closes) checkpoints as usual
    if (this.writer.open) this.writer.pragma('wal_autocheckpoint = 1000');
  }
}
