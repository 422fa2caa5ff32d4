import { invalid } from '../../shared/errors.js';
import type { DeliveryStatus } from '../delivery/deliveries.js';

/** One end of a replay's range: a position of the log, or a time (the first event at or after it / the last at or before it). */
export type RangeEnd = { kind: 'position'; position: number } | { kind: 'time'; at: string };

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `position:<n>` or an ISO time; a 400 naming the field otherwise. */
export function parseRangeEnd(value: string, field: string): RangeEnd {
  const position = /^position:(\d{1,15})$/.exec(value);
  if (position) return { kind: 'position', position: Number(position[1]) };
  if (ISO.test(value) && !Number.isNaN(Date.parse(value))) return { kind: 'time', at: new Date(value).toISOString() };
  throw invalid(`${field} must be an ISO time or position:<n>`, [{ field, message: 'must be an ISO time (2026-03-01T00:00:00Z) or position:<n>' }]);
}

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
