/** COALESCED: carried by another delivery's message (a chat webhook's window): its fate is that delivery's. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERING', 'DELIVERED', 'RETRYING', 'FAILED', 'HELD', 'SKIPPED', 'COALESCED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The items of GET …/webhooks/{webhookId}/deliveries, newest first. */
export interface DeliveryView {
  /** Stable for an (event, webhook) pair. */
  id: string;
  webhookId: number;
  /** The event's position in the log; null for a test message. */
  eventPosition: number | null;
  activityType: string;
  status: DeliveryStatus;
  attemptCount: number;
  /** When it is attempted next (PENDING, RETRYING, HELD). */
  nextAttemptAt: string | null;
  lastError: string | null;
  /** The message's title (a coalesced message's summary); null when it could not be built. */
  title: string | null;
  /** The issue it is about (null for a test message). */
  issueId: number | null;
  /** COALESCED: the delivery whose message carried this one. */
  carriedBy: string | null;
  /** A direct message: the user it goes to (through the project's IM app); null: the webhook's channel message. */
  recipientId: number | null;
  createdAt: string;
  updatedAt: string;
}

/** One attempt of a delivery: what was sent (URL and custom header values masked) and what came back. */
export interface AttemptView {
  /** 1 for the first attempt. */
  number: number;
  startedAt: string;
  durationMs: number;
  request: { url: string; headers: Record<string, string>; body: string };
  /** Absent when no answer came (timeout, refused, blocked address). */
  response?: { status: number; headers: Record<string, string>; body: string };
  error?: string;
  /** delivered, retry or failed. */
  verdict: string;
  /** Why it was not delivered. */
  reason?: string;
}

/** GET …/deliveries/{deliveryId}. */
export interface DeliveryDetailView extends DeliveryView {
  /** A coalesced message: the other deliveries (events) it carries. */
  carries: { id: string; eventPosition: number }[];
  attempts: AttemptView[];
}

/** POST …/webhooks/{webhookId}/recover. */
export interface RecoverResult {
  /** Deliveries queued again. */
  requeued: number;
}

/** POST …/deliveries/{deliveryId}/redeliver. */
export interface RedeliverResult {
  accepted: boolean;
}

/** A delivery's final status, or `pending` while it may still be attempted. */
export const STATS_OUTCOMES = ['delivered', 'failed', 'skipped', 'pending'] as const;
export type StatsOutcome = (typeof STATS_OUTCOMES)[number];

export interface HourCount extends Record<StatsOutcome, number> {
  /** The hour's start (UTC). */
  start: string;
}

/** GET …/webhooks/{webhookId}/deliveries/hourly. */
export interface HourlyDeliveries {
  webhookId: number;
  /** The first hour's start. */
  from: string;
  /** The moment the counts were taken. */
  to: string;
  /** Oldest first, one entry per hour, empty hours included. */
  hours: HourCount[];
}
