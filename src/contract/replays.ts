import type { DeliveryStatus } from './deliveries.js';

/** POST …/webhooks/{webhookId}/replay. */
export interface ReplayRequest {
  /** An ISO time or `position:<n>`. */
  from: string;
  to?: string;
  /** Instead of the webhook's own activity types (Bytebase's names accepted). */
  activityTypes?: string[];
  dryRun?: boolean;
  includeDelivered?: boolean;
}

export interface ReplayItem {
  eventId: string;
  position: number;
  activityType: string;
  title: string;
  issueId: number | null;
  /** The event's time, epoch seconds. */
  createdTs: number;
  alreadyDelivered: boolean;
}

/**
 * POST …/replay with `dryRun: true` (200): what a real run of the range would send. A dry run
 * reads at most a bounded number of the range's events per request; `next` goes on from there.
 */
export interface ReplayPreview {
  /** Deliveries a real run would queue, in the part of the range read (fromPosition to scannedTo). */
  count: number;
  /** The first 100 of them, in the log's order. */
  items: ReplayItem[];
  /** The range as positions of the log (toPosition below fromPosition: no event in it). */
  fromPosition: number;
  toPosition: number;
  /** The last position read: toPosition when the whole range was read. */
  scannedTo: number;
  /** The whole range was read. */
  complete: boolean;
  /** When not complete: the `from` of a dry run that goes on where this one stopped (`position:<n>`); else null. */
  next: string | null;
}

/** Where a replay stands: still reading its range and queuing (in the background), everything queued, or stopped by an error. */
export const REPLAY_STATES = ['scanning', 'queued', 'failed'] as const;
export type ReplayState = (typeof REPLAY_STATES)[number];

/** GET …/webhooks/{webhookId}/replays/{replayId}; also the answer to POST …/replay (202), as it starts. */
export interface ReplayProgress {
  id: string;
  webhookId: number;
  /** The range as positions of the log (toPosition below fromPosition: no event in it). */
  fromPosition: number;
  toPosition: number;
  state: ReplayState;
  /** The last position of the range read so far (fromPosition - 1 before the first page). */
  scannedTo: number;
  /** Deliveries queued so far: new ones, and undelivered (or asked-for) ones queued again; never one another replay queued first. */
  count: number;
  /** Why it stopped (state `failed`); else null. */
  error: string | null;
  createdAt: string;
  /**
   * Its deliveries by status (a delivery queued again later by another replay counts there). Counted afresh at each
   * request for a small replay; for one of many (counting a million takes a sizeable part of a second), the last
   * full count is reused until twenty times as long as it took has passed, what was read since added to it.
   */
  statuses: Record<DeliveryStatus, number>;
  /** Everything is queued and none of its deliveries is waiting or being attempted. */
  done: boolean;
}
