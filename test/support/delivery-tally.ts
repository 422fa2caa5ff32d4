import type { Received } from './receiver.js';

/** The comment a Custom webhook request is about: its link ends with `#activity<commentId>`. */
export function commentOf(request: Received): number {
  return Number(/#activity(\d+)$/.exec(request.json?.link ?? '')?.[1]);
}

/** Herald's log line for an attempt whose result it could not record (it attempts that delivery again). */
const UNRECORDED = 'could not record an attempt; it will be attempted again (same webhook-id)';

/**
 * What a receiver got, comment by comment: the webhook-ids each came under (one, if no
 * delivery was doubled), and the ids that came more than once although Herald never said
 * it could not record their attempt (none, if "at least once" is only ever that).
 */
export function tallyDeliveries(received: Received[], log: Record<string, unknown>[]): { idsByComment: Map<number, Set<string>>; unexplainedRepeats: string[] } {
  const idsByComment = new Map<number, Set<string>>();
  const requestsById = new Map<string, number>();
  for (const request of received) {
    const id = request.headers['webhook-id'] as string;
    const comment = commentOf(request);
    idsByComment.set(comment, (idsByComment.get(comment) ?? new Set()).add(id));
    requestsById.set(id, (requestsById.get(id) ?? 0) + 1);
  }
  const unrecorded = new Set(log.filter((line) => line.msg === UNRECORDED).map((line) => line.deliveryId));
  return { idsByComment, unexplainedRepeats: [...requestsById].filter(([id, count]) => count > 1 && !unrecorded.has(id)).map(([id]) => id) };
}
