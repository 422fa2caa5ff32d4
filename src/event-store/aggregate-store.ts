import { notFound, preconditionFailed } from '../shared/errors.js';
import { assertConforms, type EventSchemas } from './event-schema.js';
import { WrongExpectedVersionError, type DomainEvent, type Evolving, type EventMetadata, type RecordedEvent, type SqlWrite } from './event.js';
import type { EventStore, WriteTx } from './event-store.js';
import { tracedAppend } from './store-tracing.js';

/** The id of the stream of one aggregate ("issue-7"): the one naming of streams. */
export const streamIdOf = (kind: string, id: number): string => `${kind}-${id}`;

/** The kind and id a stream id names ("issue-7": issue, 7). */
export function parseStreamId(streamId: string): { kind: string; id: number } {
  const dash = streamId.lastIndexOf('-');
  return { kind: streamId.slice(0, dash), id: Number(streamId.slice(dash + 1)) };
}

/**
 * One read model: the table it fills (a rebuild empties it first) and the rows that follow
 * from its stream, per event or from the state the events fold to. Written in the append's
 * transaction: every projection's rows for the events first, then those for the state.
 */
export interface Projection<S, E extends DomainEvent> {
  table: string;
  /** Rows that follow from one event (append-only rows such as comments). */
  fromEvent?(event: RecordedEvent<E>): SqlWrite[];
  /** Rows that mirror the stream's state at a version. */
  fromState?(state: S, version: number): SqlWrite[];
}

/** How one kind of aggregate is folded from its stream and projected into read models. */
export interface AggregateDefinition<S, E extends DomainEvent> {
  /** Used in messages ("issue 7 not found") and as the stream id prefix ("issue-7"). */
  kind: string;
  initialState: S;
  evolve(state: S, event: Evolving<E>): S;
  /** Its read models, one projection each. */
  projections: Projection<S, E>[];
  /** The ids an event took from the id sequences, so a rebuild (or an import) can restore the sequences. */
  allocatedIds(event: E): [sequence: string, id: number][];
  /** The schema of each event type of the stream: a decision that would append a non-conforming event fails instead. */
  schemas: EventSchemas;
}

export interface DecisionContext {
  now: Date;
  /** Ids allocated inside the transaction, by sequence name, in the counts requested. */
  ids: Record<string, number[]>;
}

export interface Committed<S, E extends DomainEvent> {
  id: number;
  state: S;
  version: number;
  events: RecordedEvent<E>[];
}

export type Metadata = Omit<EventMetadata, 'causationId'> & { causationId?: string | null };

/**
 * Load, decide, append and project in one write transaction; every aggregate
 * uses it. States are cached per stream and caught up from the log inside the
 * transaction, so a command reads only the events it has not seen yet.
 */
export class AggregateStore<S, E extends DomainEvent> {
  private readonly cache = new Map<string, { version: number; state: S }>();
  private static readonly CACHE_LIMIT = 5000;

  constructor(
    readonly definition: AggregateDefinition<S, E>,
    private readonly store: EventStore,
  ) {}

  streamId(id: number): string {
    return streamIdOf(this.definition.kind, id);
  }

  /** Starts a new stream whose id is allocated in the same transaction (no gaps on failure). */
  async create(
    request: { ids: Record<string, number>; idSequence: string; metadata: Metadata },
    decide: (ctx: DecisionContext, tx: WriteTx) => E[] | Promise<E[]>,
  ): Promise<Committed<S, E>> {
    const committed = await this.store.transact(async (tx) => {
      const ids: Record<string, number[]> = {};
      for (const [sequence, count] of Object.entries(request.ids)) ids[sequence] = await tx.nextIds(sequence, count);
      const id = ids[request.idSequence][0];
      const events = await decide({ now: tx.now, ids }, tx);
      return this.commit(tx, id, 0, this.definition.initialState, events, request.metadata);
    });
    return this.remember(committed);
  }

  /**
   * Applies a decision to an existing stream. With an expected version (If-Match) a
   * stale one is a 412; without, the decision is made on the latest state, and a
   * version conflict (another process appended in between) is retried.
   */
  async update(
    id: number,
    request: {
      expectedVersion?: number;
      ids?: Record<string, number>;
      metadata: Metadata;
      /** Operational writes that must commit with these events (delivery bookkeeping). */
      also?: (tx: WriteTx) => Promise<void>;
      /** See WriteOptions.durable: only for bookkeeping whose events may be redone. */
      durable?: boolean;
    },
    decide: (state: S, ctx: DecisionContext, tx: WriteTx) => E[] | Promise<E[]>,
  ): Promise<Committed<S, E>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.store.transact(async (tx) => {
          const { state, version } = await this.loadIn(tx, id);
          if (version === 0) throw notFound(this.definition.kind, id);
          if (request.expectedVersion !== undefined && request.expectedVersion !== version) {
            throw preconditionFailed(
              `${this.definition.kind} ${id} is at version ${version}, not ${request.expectedVersion} (If-Match)`,
            );
          }
          const ids: Record<string, number[]> = {};
          for (const [sequence, count] of Object.entries(request.ids ?? {})) ids[sequence] = await tx.nextIds(sequence, count);
          const events = await decide(state, { now: tx.now, ids }, tx);
          await request.also?.(tx);
          return this.commit(tx, id, version, state, events, request.metadata);
        }, { durable: request.durable });
        return this.remember(committed);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || request.expectedVersion !== undefined || attempt >= 5) throw error;
        this.cache.delete(this.streamId(id));
      }
    }
  }

  /**
   * Decides and appends inside a transaction the caller runs (delivery records append
   * health changes with their bookkeeping). The caller locks the stream before its
   * transaction's first write (see WriteTx.lockStream). Nothing is cached: the caller's
   * transaction may still roll back.
   */
  async updateWithin(tx: WriteTx, id: number, metadata: Metadata, decide: (state: S) => E[]): Promise<RecordedEvent<E>[]> {
    const { state, version } = await this.loadIn(tx, id);
    if (version === 0) throw notFound(this.definition.kind, id);
    return (await this.commit(tx, id, version, state, decide(state), metadata)).events;
  }

  private async loadIn(tx: WriteTx, id: number): Promise<{ state: S; version: number }> {
    const streamId = this.streamId(id);
    await tx.lockStream(streamId);
    const cached = this.cache.get(streamId);
    let state = cached?.state ?? this.definition.initialState;
    let version = cached?.version ?? 0;
    for (const event of await tx.readStream(streamId, version)) {
      state = this.definition.evolve(state, event as unknown as Evolving<E>);
      version = event.version;
    }
    return { state, version };
  }

  private async commit(tx: WriteTx, id: number, version: number, state: S, events: E[], metadata: Metadata): Promise<Committed<S, E>> {
    // an accepted command never leaves an event the rest of the system cannot read
    assertConforms(events, this.definition.schemas);
    let next = state;
    // in a trace, the events keep the append's span context (see store-tracing.ts)
    const recorded = await tracedAppend(this.streamId(id), events.length, async (trace) => {
      const appended = (await tx.append(this.streamId(id), version, events, {
        metadata: { actorId: metadata.actorId, correlationId: metadata.correlationId, causationId: metadata.causationId ?? null, ...trace },
      })) as RecordedEvent<E>[];
      for (const event of appended) next = this.definition.evolve(next, event as unknown as Evolving<E>);
      if (appended.length > 0) await projectInto(tx, this.definition.projections, appended, next, version + appended.length);
      return appended;
    });
    return { id, state: next, version: version + recorded.length, events: recorded };
  }

  /** Caches a state only once its transaction has committed. */
  private remember(committed: Committed<S, E>): Committed<S, E> {
    const streamId = this.streamId(committed.id);
    const { version, state } = committed;
    if (this.cache.size >= AggregateStore.CACHE_LIMIT && !this.cache.has(streamId)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(streamId);
    this.cache.set(streamId, { version, state });
    return committed;
  }
}

/** Runs projections in a transaction: their rows for each event, then those for the state the events led to. */
export async function projectInto<S, E extends DomainEvent>(
  tx: Pick<WriteTx, 'exec'>,
  projections: Projection<S, E>[],
  events: RecordedEvent<E>[],
  state: S,
  version: number,
): Promise<void> {
  for (const projection of projections) if (projection.fromEvent) for (const event of events) await tx.exec(projection.fromEvent(event));
  for (const projection of projections) if (projection.fromState) await tx.exec(projection.fromState(state, version));
}
