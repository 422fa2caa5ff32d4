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

export interface ReplayResult {
  /** Absent for a dry run. */
  replayId?: string;
  count: number;
  /** The first 100 of what is (or would be) sent, in the log's order. */
  items: ReplayItem[];
}

/** GET …/webhooks/{webhookId}/replays/{replayId}. */
export interface ReplayProgress {
  id: string;
  webhookId: number;
  fromPosition: number;
  toPosition: number;
  count: number;
  createdAt: string;
  /** Its deliveries by status now (a delivery queued again later by another replay counts there). */
  statuses: Record<DeliveryStatus, number>;
  /** No delivery of it is waiting or being attempted. */
  done: boolean;
}
