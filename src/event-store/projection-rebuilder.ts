import { systemClock, type Clock } from '../shared/clock.js';
import { yieldToLoop } from '../shared/time-slice.js';
import type { AggregateDefinition } from './aggregate-store.js';
import { batchInserts } from './batched-writes.js';
import type { RecordedEvent, SqlWrite } from './event.js';
import { LOG_START, type EventStore, type LogCursor } from './event-store.js';
import { ReadModelFolder } from './read-model-folder.js';
import { RebuildRecord, RebuildRunning, type RebuildStatus } from './rebuild-record.js';
import { ShadowTables } from './shadow-tables.js';

/**
 * What the read models hold for a given log: raised whenever that changes (an upcaster that
 * reads old events differently, a projection that writes other rows), so that the next start
 * rebuilds them (rebuildIfOutdated). 2: webhook URL masks and the nulls of issue and webhook
 * changes read through the upcasters of issue 17.
 */
export const READ_MODELS_VERSION = 2;

/** Events read, folded and written per slice (a few milliseconds of work on either engine). */
const SLICE = 250;
/** Streams whose read-model rows are written per slice. */
const STATE_SLICE = 100;
/** A tail of the log this short is folded in the swap's own transaction. */
const SHORT_TAIL = SLICE;
/** Catch-up rounds before the swap takes whatever tail is left (commands faster than the rebuild, for a while). */
const CATCH_UP_ROUNDS = 20;
/** PostgreSQL: how long the swap waits for each lock before it lets the commands go and tries again, and how often. */
const LOCK_TIMEOUT_MS = 250;
const SWAP_TRIES = 40;

const NOT_DURABLE = { durable: false };

export interface RebuildProgress {
  id: string;
  phase: string;
  done: number;
  total: number;
}

export interface RebuildOptions {
  /** Who asked (`admin`, `start-up`, `cli`): shown with its progress. */
  requestedBy: string;
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  id: string;
  /** Events replayed. */
  events: number;
  durationMs: number;
}

/** The rebuild stopped before its swap because the service is stopping: the old read models stay. */
export class RebuildInterrupted extends Error {
  constructor() {
    super('the rebuild of the read models was interrupted: the service is stopping; the read models are the ones before it');
    this.name = 'RebuildInterrupted';
  }
}

/**
 * Rebuilds every read model from the log without holding the loop or the log: the log is
 * replayed into shadow tables in short transactions (commands commit between them and keep
 * updating the live read models), the rows of each stream's state are written in slices, the
 * events appended meanwhile are caught up, and one short transaction folds the last of them
 * and swaps the shadows in (see ShadowTables), raising the id sequences to the highest id in
 * the log and marking the read models current. Readers see the old read models until that
 * commit and the new ones after it. One rebuild runs at a time, wherever it runs (see
 * RebuildRecord); its progress is in read_model_rebuilds.
 */
export class ProjectionRebuilder {
  private running: Promise<RebuildResult> | null = null;
  private claiming = false;
  private stopping = false;

  constructor(
    private readonly store: EventStore,
    private readonly aggregates: AggregateDefinition<any, any>[],
    /** The store's clock: a rebuild's row is stale when it has said nothing for a while by it. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Claims and starts a rebuild; resolves with its first status and its end. Throws RebuildRunning while one runs. */
  async start(options: RebuildOptions): Promise<{ status: RebuildStatus; done: Promise<RebuildResult> }> {
    if (this.running || this.claiming) throw new RebuildRunning(await this.latest());
    this.claiming = true;
    let record: RebuildRecord;
    try {
      record = await RebuildRecord.claim(this.store, options.requestedBy, await this.store.head());
    } finally {
      this.claiming = false;
    }
    const done = this.run(record, options).finally(() => (this.running = null));
    this.running = done;
    // the caller may only read the status (the route answers at once): a failure is in the status too
    done.catch(() => undefined);
    const status = await this.latest();
    return { status: status?.id === record.id ? status : { ...status!, id: record.id }, done };
  }

  /** A rebuild, to its end. */
  async rebuild(options: RebuildOptions): Promise<RebuildResult> {
    return (await this.start(options)).done;
  }

  /**
   * Rebuilds the read models when they were built by an older READ_MODELS_VERSION; resolves with the
   * rebuild, if one ran. A rebuild running elsewhere (another instance starting) is waited for.
   */
  async rebuildIfOutdated(options: RebuildOptions): Promise<RebuildResult | undefined> {
    for (;;) {
      const row = await this.store.queryOne<{ version: number | string }>(`SELECT version FROM read_model_versions WHERE name = 'read-models'`);
      if (row && Number(row.version) >= READ_MODELS_VERSION) return undefined;
      try {
        return await this.rebuild(options);
      } catch (error) {
        if (!(error instanceof RebuildRunning)) throw error;
        if (this.stopping) throw new RebuildInterrupted();
        options.onProgress?.({ id: '', phase: 'waiting for the rebuild running elsewhere', done: 0, total: 0 });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** The latest rebuild, if any ran. */
  latest(): Promise<RebuildStatus | undefined> {
    return RebuildRecord.latest(this.store, this.clock.now());
  }

  /** Stops a running rebuild at its next slice (the service is stopping); resolves once it has. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  private async run(record: RebuildRecord, options: RebuildOptions): Promise<RebuildResult> {
    const started = performance.now();
    const folder = new ReadModelFolder(this.aggregates);
    const shadows = new ShadowTables(this.store, folder.tables);
    const report = async (phase: string, done: number, total: number, now = false) => {
      if (this.stopping) throw new RebuildInterrupted();
      options.onProgress?.({ id: record.id, phase, done, total });
      await record.progress(phase, done, total, now);
      await yieldToLoop();
    };
    try {
      await report('preparing the shadow tables', 0, 0, true);
      await shadows.prepare(() => report('removing what an interrupted rebuild left', 0, 0));
      const head = await this.store.head();
      let cursor = await this.replay(folder, shadows, LOG_START, (events) => report('replaying the log', events, Math.max(head, events)));
      await this.writeStates(folder, shadows, folder.streamIds(), (done, total) => report('writing the read models', done, total));
      for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
        const before = folder.events;
        const touched = new Set<string>();
        const caughtUp = () => report('catching up with the events appended meanwhile', folder.events, folder.events);
        cursor = await this.replay(folder, shadows, cursor, caughtUp, touched);
        await this.writeStates(folder, shadows, [...touched], caughtUp);
        if (folder.events - before < SHORT_TAIL) break;
      }
      await report('swapping in the new read models', folder.events, folder.events, true);
      await this.swap(folder, shadows, cursor);
      // the new read models are in: a service stopping now leaves the old tables to the next rebuild's preparation
      await shadows.dropLeftovers(async () => {
        options.onProgress?.({ id: record.id, phase: 'removing the old read models', done: folder.events, total: folder.events });
        await record.progress('removing the old read models', folder.events, folder.events);
        await yieldToLoop();
        return !this.stopping;
      });
      const durationMs = Math.round(performance.now() - started);
      await record.end({ state: 'done', events: folder.events }, durationMs);
      options.onProgress?.({ id: record.id, phase: 'done', done: folder.events, total: folder.events });
      return { id: record.id, events: folder.events, durationMs };
    } catch (error) {
      const state = error instanceof RebuildInterrupted ? 'interrupted' : 'failed';
      await record.end({ state, error: (error as Error).message }, Math.round(performance.now() - started)).catch(() => undefined);
      throw error;
    }
  }

  /** Reads the log after the cursor in slices, writing each slice's rows into the shadows; resolves where it stopped. */
  private async replay(folder: ReadModelFolder, shadows: ShadowTables, from: LogCursor, progress: (events: number) => Promise<void>, touched?: Set<string>): Promise<LogCursor> {
    let cursor = from;
    for (;;) {
      const { events, cursor: next } = await this.store.readLog(cursor, SLICE);
      if (events.length === 0) return cursor;
      await this.write(shadows.intoShadows(folder.fold(events, touched)));
      cursor = next;
      await progress(folder.events);
      if (events.length < SLICE) return cursor;
    }
  }

  private async writeStates(folder: ReadModelFolder, shadows: ShadowTables, streamIds: string[], progress: (done: number, total: number) => Promise<void>): Promise<void> {
    for (let i = 0; i < streamIds.length; i += STATE_SLICE) {
      await this.write(shadows.intoShadows(folder.stateRows(streamIds.slice(i, i + STATE_SLICE))));
      await progress(Math.min(i + STATE_SLICE, streamIds.length), streamIds.length);
    }
  }

  private async write(rows: SqlWrite[]): Promise<void> {
    if (rows.length > 0) await this.store.transact((tx) => tx.exec(batchInserts(rows)), NOT_DURABLE);
  }

  /**
   * One transaction: no append meanwhile, the last events folded into the shadows, the shadows
   * swapped in, the id sequences raised, the version marked. On PostgreSQL the locks are given up
   * after LOCK_TIMEOUT_MS (before anything is folded) and taken again after a catch-up.
   */
  private async swap(folder: ReadModelFolder, shadows: ShadowTables, from: LogCursor): Promise<void> {
    let cursor = from;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.transact(async (tx) => {
          await shadows.lock(tx, LOCK_TIMEOUT_MS);
          const tail: RecordedEvent[] = [];
          for (let at = cursor; ; ) {
            const { events, cursor: next } = await tx.readLogLocked(at, SLICE);
            if (events.length === 0) break;
            tail.push(...events);
            at = next;
          }
          const touched = new Set<string>();
          await tx.exec(batchInserts(shadows.intoShadows(folder.fold(tail, touched))));
          await tx.exec(batchInserts(shadows.intoShadows(folder.stateRows(touched))));
          await tx.exec(folder.idSequenceRows());
          await shadows.swap(tx);
          await tx.exec([{ sql: `UPDATE read_model_versions SET version = ?, rebuilt_at = ? WHERE name = 'read-models'`, params: [READ_MODELS_VERSION, tx.now.toISOString()] }]);
        }, NOT_DURABLE);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03' || attempt >= SWAP_TRIES) throw error;
        if (this.stopping) throw new RebuildInterrupted();
        const touched = new Set<string>();
        cursor = await this.replay(folder, shadows, cursor, async () => undefined, touched);
        await this.writeStates(folder, shadows, [...touched], async () => undefined);
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }
}
