import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sqliteModulePath, type SqliteDatabase } from './sqlite-driver.js';

/**
 * What the worker runs: its own connection to the file, a passive checkpoint every `everyMs`
 * (telling the main thread how big the WAL is once it is past `resetPages`, and when checkpoints
 * start failing or work again: a full disk fails them every time), and one more whenever asked
 * to finish (CommonJS: an eval'd worker has `require`).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
let failing = null;
const checkpoint = () => {
  try {
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (failing !== null) parentPort.postMessage({ recovered: true });
    failing = null;
    return { log, checkpointed };
  } catch (error) {
    const message = String((error && error.message) || error);
    if (message !== failing) parentPort.postMessage({ error: message });
    failing = message;
    return {};
  }
};
setInterval(() => {
  const done = checkpoint();
  if (done.log >= workerData.resetPages) parentPort.postMessage(done);
}, workerData.everyMs);
parentPort.on('message', () => parentPort.postMessage({ ...checkpoint(), finished: true }));
parentPort.postMessage({ ready: true });
`;

interface Report {
  ready?: true;
  finished?: true;
  recovered?: true;
  log?: number;
  checkpointed?: number;
  error?: string;
}

/**
 * WAL checkpoints off the event loop. SQLite copies the WAL back into the database file (a
 * checkpoint) when a commit leaves more than 1,000 pages in it, inside that COMMIT, on the
 * committing connection: with better-sqlite3 that is the event loop, held for tens to hundreds
 * of milliseconds (pages copied, the files synced) by whichever write crosses the line, a
 * replay's page as well as a comment. So the writer checkpoints nothing; a worker thread with
 * a connection of its own runs a passive checkpoint every EVERY_MS (it never waits for, nor
 * blocks, the writer or the readers).
 *
 * The WAL starts over only when a write begins with all of it copied, which a busy writer
 * never gives a worker running beside it (the WAL grew past a gigabyte in a replay of a
 * million events, and every read slowed with it). So once it is past RESET_PAGES, the next
 * write waits (asynchronously: the loop goes on) while the worker copies the last pages and
 * syncs; that write then starts the WAL over. Should the worker fail, the writer checkpoints
 * as SQLite does by default.
 */
export class SqliteCheckpointer {
  static readonly EVERY_MS = 50;
  /** 16 MB of 4 KB pages. */
  static readonly RESET_PAGES = 4000;
  /** A worker that does not answer within this lets the writes go on (the WAL is started over another time). */
  static readonly FINISH_WAIT_MS = 2000;
  private readonly worker: Worker;
  private stopped = false;
  /** Writes that waited for the worker to copy the WAL to its end (one per RESET_PAGES written, not one per write). */
  resets = 0;
  /** The WAL is past RESET_PAGES: the next write waits for the worker to finish copying it. */
  private resetDue = false;
  private finishing: Promise<void> | null = null;
  private finished: (() => void) | null = null;
  /** RESET_PAGES in bytes, at this database's page size. */
  private readonly resetBytes: number;
  /**
   * Settles once the worker has opened its connection (or failed, or exited). A worker terminated while
   * it loads better-sqlite3 can abort the whole process: the addon's initialisation treats the failed V8
   * calls of a terminating thread as fatal (seen as a SIGABRT in TryLoadAddon on Node.js 26, under load).
   */
  private readonly loaded: Promise<void>;
  private markLoaded: () => void = () => undefined;

  private constructor(private readonly writer: SqliteDatabase, private readonly onProblem: (message: string) => void) {
    this.resetBytes = SqliteCheckpointer.RESET_PAGES * Number(writer.pragma('page_size', { simple: true }));
    // the WAL file keeps its size when it starts over (only its frames start again), so its size tells how much is
    // in it only if SQLite cuts it back then: the first commit after a restart truncates it to this (a quarter of the
    // reset size), and it passes RESET_PAGES again only with that much written since. Without it every write past
    // the first reset waited for the worker.
    writer.pragma(`journal_size_limit = ${Math.floor(this.resetBytes / 4)}`);
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { module: sqliteModulePath, path: writer.name, everyMs: SqliteCheckpointer.EVERY_MS, resetPages: SqliteCheckpointer.RESET_PAGES },
    });
    // a background helper: it keeps no process alive
    this.worker.unref();
    this.loaded = new Promise<void>((resolve) => (this.markLoaded = resolve));
    this.worker.on('message', (report: Report) => this.heard(report));
    this.worker.on('error', (error) => this.fallBack(error.message));
    this.worker.on('exit', (code) => this.fallBack(`exit code ${code}`));
  }

  /** For a database file in WAL mode (an in-memory one has no WAL). */
  static start(writer: SqliteDatabase, onProblem: (message: string) => void): SqliteCheckpointer | null {
    if (writer.memory || String(writer.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return null;
    return new SqliteCheckpointer(writer, onProblem);
  }

  /** Awaited before each write transaction: a promise while the WAL is being copied to its end, so that this write starts it over. */
  beforeWrite(): Promise<void> | undefined {
    if (this.finishing) return this.finishing;
    // the worker's report may come late on a busy machine (its thread waits for a core): the WAL's size, read here
    // (one stat), bounds it by the last write whatever the worker's pace
    if (!this.resetDue && !this.stopped && this.walBytes() >= this.resetBytes) this.resetDue = true;
    if (!this.resetDue || this.stopped) return undefined;
    this.resetDue = false;
    this.resets++;
    this.finishing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.finished?.(), SqliteCheckpointer.FINISH_WAIT_MS);
      this.finished = () => {
        clearTimeout(timer);
        this.finished = null;
        this.finishing = null;
        resolve();
      };
    });
    this.worker.postMessage('finish');
    return this.finishing;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.finished?.();
    // never terminated mid-load (see `loaded`); a worker that never loads is terminated after the same wait as a finish
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, SqliteCheckpointer.FINISH_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
    // whoever writes next (a CLI on the same file, this connection until it closes) checkpoints as usual
    if (this.writer.open) this.writer.pragma('wal_autocheckpoint = 1000');
  }

  private walBytes(): number {
    try {
      return statSync(`${this.writer.name}-wal`).size;
    } catch {
      return 0; // no WAL file yet
    }
  }

  private heard(report: Report): void {
    if (report.ready) this.markLoaded();
    if (report.ready && !this.stopped) this.writer.pragma('wal_autocheckpoint = 0');
    if (report.error) this.onProblem(`WAL checkpoints fail (the WAL grows until they work again): ${report.error}`);
    if (report.recovered) this.onProblem('WAL checkpoints work again');
    if (report.finished) this.finished?.();
    else if (report.log !== undefined && report.log >= SqliteCheckpointer.RESET_PAGES) this.resetDue = true;
  }

  private fallBack(reason: string): void {
    this.markLoaded();
    if (this.stopped) return;
    this.stopped = true;
    this.finished?.();
    if (this.writer.open) this.writer.pragma('wal_autocheckpoint = 1000');
    this.onProblem(`the WAL checkpoint worker stopped (${reason}): the writer checkpoints itself again`);
  }
}
