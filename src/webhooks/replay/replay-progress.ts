import { Injectable } from '@nestjs/common';
import type { ReplayProgress, ReplayState } from '../../contract/replays.js';
import { EventStore } from '../../event-store/event-store.js';
import { notFound } from '../../shared/errors.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';

/** Positions of a replay's range counted at once: at most this many of its deliveries read from the index per slice. */
const COUNT_SLICE = 20_000;
/** A count is reused until this many times as long as it took has passed. */
const REUSE_FACTOR = 20;
/** A replay of fewer deliveries than this (one slice of the count) is counted afresh at every request, however busy the machine. */
const REUSE_FROM = COUNT_SLICE;
/** Replays whose last count is remembered. */
const REMEMBERED = 1000;

interface ReplayRow {
  id: string;
  webhook_id: number;
  from_position: number;
  to_position: number;
  scanned_to: number;
  state: ReplayState;
  error: string | null;
  count: number;
  created_at: number;
}

type Statuses = Record<DeliveryStatus, number>;

/**
 * Where a replay stands: its own record (how far it has read, how many it queued, whether it
 * failed), always as it is now, and its deliveries by status, counted from the index a slice
 * of its range at a time, the loop given a turn between slices. Counting a replay of a million
 * deliveries takes a sizeable part of a second, so a full count is reused until twenty times as
 * long as it took has passed, with only the part of the range read since counted afresh:
 * however often the progress is asked for (a console polls it every second), counting takes at
 * most about a twentieth of the service's time, the statuses always add up to what the replay
 * queued, and a small replay (fewer deliveries than REUSE_FROM) is counted afresh at each request. (Elapsed wall time, not the
 * injected clock: it measures cost.)
 */
@Injectable()
export class ReplayProgressReader {
  private readonly counts = new Map<string, { statuses: Statuses; upTo: number; countedAt: number; tookMs: number }>();

  constructor(private readonly store: EventStore) {}

  async read(projectId: number, webhookId: number, replayId: string): Promise<ReplayProgress> {
    const replay = await this.store.queryOne<ReplayRow>(`SELECT * FROM webhook_replays WHERE id = ? AND webhook_id = ? AND project_id = ?`, [replayId, webhookId, projectId]);
    if (!replay) throw notFound('replay', replayId);
    const [from, upTo] = [Number(replay.from_position), Number(replay.scanned_to)];
    const statuses = await this.statuses(replayId, from, upTo, Number(replay.count));
    const waiting = statuses.PENDING + statuses.RETRYING + statuses.HELD + statuses.DELIVERING;
    return {
      id: replay.id,
      webhookId: Number(replay.webhook_id),
      fromPosition: from,
      toPosition: Number(replay.to_position),
      state: replay.state,
      scannedTo: upTo,
      count: Number(replay.count),
      error: replay.error,
      createdAt: new Date(Number(replay.created_at)).toISOString(),
      statuses,
      done: replay.state === 'queued' && waiting === 0,
    };
  }

  private async statuses(replayId: string, from: number, upTo: number, queued: number): Promise<Statuses> {
    const last = this.counts.get(replayId);
    // a small replay's count is cheap: reused, it would show deliveries as they were (a count slowed by a busy loop
    // measured as costly kept a five-delivery replay PENDING after it was delivered)
    if (last && queued >= REUSE_FROM && performance.now() - last.countedAt < last.tookMs * REUSE_FACTOR) {
      // what was read since the last count (all of it queued since, so counted cheaply)
      const since = await this.count(replayId, last.upTo, upTo, { ...last.statuses });
      Object.assign(last, { statuses: since, upTo: Math.max(upTo, last.upTo) });
      return { ...since };
    }
    const started = performance.now();
    const statuses = await this.count(replayId, from - 1, upTo, Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Statuses);
    this.counts.delete(replayId);
    if (this.counts.size >= REMEMBERED) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(replayId, { statuses, upTo, countedAt: performance.now(), tookMs: performance.now() - started });
    return { ...statuses };
  }

  /** Adds the replay's deliveries of positions after `after` up to `upTo`, by status, to `statuses`. */
  private async count(replayId: string, after: number, upTo: number, statuses: Statuses): Promise<Statuses> {
    const budget = new TimeSlice(TimeSlice.SHORT_MS);
    for (let from = after; from < upTo; from += COUNT_SLICE) {
      const rows = await this.store.query<{ status: DeliveryStatus; n: number }>(
        `SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE replay_id = ? AND event_position > ? AND event_position <= ? GROUP BY status`,
        [replayId, from, Math.min(from + COUNT_SLICE, upTo)],
      );
      for (const row of rows) statuses[row.status] += Number(row.n);
      await budget.pause();
    }
    return statuses;
  }
}
