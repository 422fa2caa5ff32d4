import type { AggregateDefinition } from '../../event-store/aggregate-store.js';
import { precedes, type DomainEvent, type Evolving, type RecordedEvent } from '../../event-store/event.js';
import type { EventStore } from '../../event-store/event-store.js';
import { TimeSlice } from '../../shared/time-slice.js';

/**
 * Aggregate states as of a position in the log, for a consumer that reads the log in
 * order: each event moves its stream's state one step, so an activity is mapped from
 * the issue and project exactly as they were when the event happened (a replay after a
 * crash maps identically). Streams first met mid-way are folded from the store up to
 * the event, a page at a time, giving the loop a turn after each page (a stream may be long);
 * a stream whose cached state is behind the event is folded on from that state.
 * Bounded: least recently used streams are dropped and reloaded on demand.
 */
export class StreamStates<S> {
  /** Events of one stream read at once while folding it. */
  static readonly PAGE = 1000;
  private readonly states = new Map<string, { version: number; state: S }>();

  constructor(
    private readonly definition: AggregateDefinition<S, any>,
    private readonly store: EventStore,
    private readonly limit = 10_000,
    private readonly budget = new TimeSlice(TimeSlice.SHORT_MS),
  ) {}

  /** The stream's state right before `event`, and right after it (which becomes the cached state). */
  async step(event: RecordedEvent): Promise<{ before: S; after: S }> {
    const before = await this.stateBefore(event.streamId, event.version);
    const after = this.definition.evolve(before, event as unknown as Evolving<DomainEvent>);
    this.put(event.streamId, event.version, after);
    return { before, after };
  }

  /** The stream's state as of an event of the log (for a stream other than the event's own). */
  async stateAt(streamId: string, at: RecordedEvent): Promise<S> {
    const cached = this.states.get(streamId);
    if (cached) return cached.state;
    const { state, version } = await this.fold(streamId, (e) => !precedes(e, at));
    this.put(streamId, version, state);
    return state;
  }

  /** The version a stream's state is kept at, if it is (a reader that reads the events after it itself). */
  versionOf(streamId: string): number | undefined {
    return this.states.get(streamId)?.version;
  }

  /** Drops a stream's kept state: it is folded from its start when next needed. */
  forget(streamId: string): void {
    this.states.delete(streamId);
  }

  clear(): void {
    this.states.clear();
  }

  private async stateBefore(streamId: string, version: number): Promise<S> {
    const cached = this.states.get(streamId);
    if (cached && cached.version === version - 1) return cached.state;
    // a stream's first event: nothing to read
    if (version === 1) return this.definition.initialState;
    // a reader that skips events of the stream (a replay's deliveries, sent later) folds on from where it was, not from the start
    const from = cached && cached.version < version ? cached : undefined;
    return (await this.fold(streamId, (e) => e.version >= version, from)).state;
  }

  /** The stream folded from its start (or from `from`, a state of it) up to (not including) the first event `stop` names. */
  private async fold(streamId: string, stop: (event: RecordedEvent) => boolean, from?: { state: S; version: number }): Promise<{ state: S; version: number }> {
    let state = from?.state ?? this.definition.initialState;
    let version = from?.version ?? 0;
    for (;;) {
      const page = await this.store.readStream(streamId, version, StreamStates.PAGE);
      for (const e of page) {
        if (stop(e)) return { state, version };
        state = this.definition.evolve(state, e as unknown as Evolving<DomainEvent>);
        version = e.version;
      }
      if (page.length < StreamStates.PAGE) return { state, version };
      await this.budget.turn();
    }
  }

  private put(streamId: string, version: number, state: S): void {
    this.states.delete(streamId);
    if (this.states.size >= this.limit) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
    this.states.set(streamId, { version, state });
  }
}
