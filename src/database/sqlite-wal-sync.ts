import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageUnavailableError } from './storage-errors.js';

/** How the WAL is made durable: fdatasync(2) on libuv's thread pool. A test may hold it to watch what waits for it. */
export type SyncFile = (file: FileHandle) => Promise<void>;

// the data and what reading it back needs (the size), not the times: what SQLite calls where the platform has it
const fdatasync: SyncFile = (file) => file.datasync();

/**
 * Group commit for SQLite in WAL mode, with the fsync off the event loop.
 *
 * With synchronous=FULL, SQLite fsyncs the WAL inside COMMIT: better-sqlite3 runs that on the
 * event loop, which then serves nothing until the disk answers. With synchronous=NORMAL, COMMIT
 * writes the transaction's frames to the WAL (to the OS, a process crash loses nothing) and
 * skips that fsync: `durable()` is the fsync, of the same file, on the thread pool. Whatever was
 * written to the WAL before a sync starts is on disk when it ends, so every commit that finished
 * before one started shares it (at most one runs, and one waits to start after it for everything
 * committed meanwhile): N commits, one fsync, and the commits' work overlaps the disk's.
 *
 * What NORMAL does not skip keeps the rest safe (SQLite's wal.c): a checkpoint syncs the WAL
 * before copying frames into the database and syncs the database before it marks them copied,
 * and the WAL starts over (its header rewritten, synced) only once every frame is copied; so a
 * frame this sync no longer finds in the WAL is in the synced database file.
 */
export class SqliteWalSync {
  private file: FileHandle | null = null;
  /** The sync running now, and the one that starts after it (it covers every commit made meanwhile). */
  private running: Promise<void> | null = null;
  private waiting: Promise<void> | null = null;
  /** The barrier of the last commit that asked for one, until it is passed (reads wait for it). */
  private unsettled: Promise<void> | null = null;
  /** fsyncs started (for the statements-per-write figures and the tests). */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /** Called right after a COMMIT that must survive a power cut: resolves once it will. */
  committed(): Promise<void> {
    const barrier = this.durable();
    this.unsettled = barrier;
    const passed = () => {
      if (this.unsettled === barrier) this.unsettled = null;
    };
    barrier.then(passed, passed);
    return barrier;
  }

  /**
   * Null when every such commit is on disk; else what a read waits for (it never fails: a failed sync
   * failed its commits' answers), so that nothing shows what a power cut could still take back.
   */
  settled(): Promise<void> | null {
    return this.unsettled?.catch(() => undefined) ?? null;
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  durable(): Promise<void> {
    if (this.waiting) return this.waiting;
    if (!this.running) return this.start();
    // the running sync may have started before the caller's write: the next one covers it
    const waiting: Promise<void> = this.running.then(
      () => this.startAfter(waiting),
      () => this.startAfter(waiting),
    );
    this.waiting = waiting;
    return waiting;
  }

  /** Waits for the syncs under way, then lets the file go. */
  async close(): Promise<void> {
    await (this.waiting ?? this.running)?.catch(() => undefined);
    await this.file?.close();
    this.file = null;
  }

  private startAfter(waiting: Promise<void>): Promise<void> {
    if (this.waiting === waiting) this.waiting = null;
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.syncOnce().finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }

  private async syncOnce(): Promise<void> {
    this.syncs++;
    try {
      await this.syncFile(this.file ?? (await this.openFile()));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const detail = code === 'ENOSPC' ? 'the database disk is full' : "the database's write-ahead log could not be synced to disk (an I/O error)";
      // the transaction is committed and visible, but whether it would survive a power cut is not known
      throw new StorageUnavailableError({ kind: code === 'ENOSPC' ? 'disk-full' : 'io-error', detail, code: `WAL_SYNC_${typeof code === 'string' ? code : 'FAILED'}` }, error, true);
    }
  }

  /**
   * The WAL, opened once (SQLite keeps it while any connection is open: the store's are, until
   * it closes). Its directory entry is synced once too, as SQLite does on a new WAL's first sync.
   */
  private async openFile(): Promise<FileHandle> {
    const file = await open(this.walPath, 'r');
    const folder = await open(dirname(this.walPath), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    this.file = file;
    return file;
  }
}
