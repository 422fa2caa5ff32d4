import type { DmDecisionView } from './im-apps.js';
import type { DeliveryStatus } from './deliveries.js';

/** What the scheduler decided for one event and one webhook (`coalesced`: scheduled, then carried by another delivery's message). */
export const DECISION_KINDS = ['scheduled', 'not-subscribed', 'filtered', 'webhook-disabled', 'webhook-created-later', 'webhook-deleted', 'coalesced'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface DecisionView {
  webhookId: number;
  decision: DecisionKind;
  /** `filtered`: why the filter failed on this activity (it then lets nothing through). */
  error?: string;
  /** The delivery this event has for the webhook, if any (scheduled live, or by a replay). */
  deliveryId?: string;
  status?: DeliveryStatus;
  /** `coalesced`: the delivery whose message carried it. */
  into?: string;
  /** `filtered`: the webhook's filter at the event. */
  filter?: string;
  /** A webhook that sends direct messages: what became of each person's (absent: it sent none for this event). */
  directMessages?: DmDecisionView[];
}

export interface EventDecisionsView {
  position: number;
  eventId: string;
  eventType: string;
  occurredAt: string;
  /** null: no webhook hears of this event (a comment edit, say). */
  activityType: string | null;
  title: string | null;
  decisions: DecisionView[];
}

/** GET /api/issues/{id}/webhook-decisions: paged by events (`limit`, `cursor`). */
export interface IssueDecisionsView {
  issueId: number;
  projectId: number;
  /** Every webhook the project has had, deleted ones included. */
  webhooks: { id: number; name: string; type: string; deleted: boolean }[];
  /** Each decision in words. */
  reasons: Record<DecisionKind, string>;
  /** The page's events, in the log's order. */
  items: EventDecisionsView[];
  /** The cursor of the next page of events, or null at the end of the issue's stream. */
  nextCursor: string | null;
}
