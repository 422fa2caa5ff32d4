/**
 * Events are data with a stable type string and a schema version. Class names and
 * framework ids are never persisted: the type string is the contract with the log.
 */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  schemaVersion: number;
  data: D;
}

export interface EventMetadata {
  actorId: number;
  correlationId: string;
  causationId: string | null;
  /**
   * The W3C trace context of the span that appended it (when tracing was on and the append was
   * part of a trace): what follows from the event, on any instance and after any restart,
   * continues that trace.
   */
  traceparent?: string;
  tracestate?: string;
}

/** An event as stored in the log, at its global position. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  position: number;
  eventId: string;
  streamId: string;
  version: number;
  type: E['type'];
  schemaVersion: number;
  data: E['data'];
  metadata: EventMetadata;
  occurredAt: string;
  /** PostgreSQL only: the writing transaction's id. The log's order for a reader is (transactionId, position). */
  transactionId?: string;
}

/** Whether a comes before b in the log as a reader sees it (transaction id, then position). */
export function precedes(a: Pick<RecordedEvent, 'position' | 'transactionId'>, b: Pick<RecordedEvent, 'position' | 'transactionId'>): boolean {
  if (a.transactionId !== undefined && b.transactionId !== undefined && a.transactionId !== b.transactionId) {
    return BigInt(a.transactionId) < BigInt(b.transactionId);
  }
  return a.position < b.position;
}

/** What evolve needs of an event: its payload, when it happened and who did it. */
export type Evolving<E extends DomainEvent> = E & { occurredAt: string; metadata: { actorId: number } };

/** A parameterized statement a projection wants run in the append's transaction. */
export interface SqlWrite {
  sql: string;
  params: unknown[];
  /** Run often with this very text (see Often): PostgreSQL may keep it prepared. */
  often?: boolean;
}

export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`stream ${streamId} is at version ${actual}, expected ${expected}`);
    this.name = 'WrongExpectedVersionError';
  }
}
