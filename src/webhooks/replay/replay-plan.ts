import type { DeliveryStatus } from '../delivery/deliveries.js';

/** What a replay does with an event that passes the webhook's rules, given the delivery it may already have. */
export type ReplayAction =
  /** No delivery yet: a new one, with the stable id. */
  | 'insert'
  /** A delivery that did not arrive (failed, skipped), or one that did and is to be sent again: queued again under its id. */
  | 'requeue'
  /** Already delivered (alone or within a coalesced message): left alone. */
  | 'already-delivered'
  /** Queued or being attempted now: it goes anyway. */
  | 'on-its-way';

export function replayAction(existing: DeliveryStatus | undefined, includeDelivered: boolean): ReplayAction {
  switch (existing) {
    case undefined:
      return 'insert';
    case 'DELIVERED':
    case 'COALESCED':
      return includeDelivered ? 'requeue' : 'already-delivered';
    case 'FAILED':
    case 'SKIPPED':
      return 'requeue';
    default:
      return 'on-its-way';
  }
}

/** Whether the replay sends it (and so counts and lists it). */
export const sends = (action: ReplayAction) => action === 'insert' || action === 'requeue';
