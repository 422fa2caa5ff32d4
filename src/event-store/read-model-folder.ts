import { parseStreamId, type AggregateDefinition } from './aggregate-store.js';
import type { DomainEvent, Evolving, RecordedEvent, SqlWrite } from './event.js';

interface Fold {
  definition: AggregateDefinition<any, DomainEvent>;
  state: unknown;
  version: number;
}

/**
 * The read models of a rebuild, folded in memory as the log is read (no I/O): each stream's
 * state under every definition of its kind (a project's stream has the project's and its
 * webhooks'), the highest id each sequence handed out, and the rows the projections write.
 */
export class ReadModelFolder {
  /** The definitions folded from each kind of stream. */
  private readonly byKind = new Map<string, AggregateDefinition<any, DomainEvent>[]>();
  private readonly streams = new Map<string, Fold[]>();
  private readonly highest = new Map<string, number>();
  /** Every table the definitions' projections fill: the read-model table list. */
  readonly tables: string[];
  events = 0;

  constructor(aggregates: AggregateDefinition<any, any>[]) {
    for (const a of aggregates) this.byKind.set(a.kind, [...(this.byKind.get(a.kind) ?? []), a]);
    this.tables = [...new Set(aggregates.flatMap((a) => a.projections.map((p) => p.table)))];
  }

  /**
   * Steps the streams of these events (in the log's order) and returns the rows their
   * per-event projections write; the streams stepped are added to `touched`.
   */
  fold(events: readonly RecordedEvent[], touched?: Set<string>): SqlWrite[] {
    const rows: SqlWrite[] = [];
    for (const event of events) {
      this.events++;
      const folds = this.foldsOf(event.streamId);
      if (!folds) continue; // a stream no read model is built from
      touched?.add(event.streamId);
      for (const fold of folds) {
        for (const [sequence, id] of fold.definition.allocatedIds(event as unknown as DomainEvent)) {
          if (id > (this.highest.get(sequence) ?? 0)) this.highest.set(sequence, id);
        }
        fold.state = fold.definition.evolve(fold.state, event as unknown as Evolving<DomainEvent>);
        fold.version = event.version;
        for (const projection of fold.definition.projections) if (projection.fromEvent) rows.push(...projection.fromEvent(event));
      }
    }
    return rows;
  }

  /** Every stream folded so far. */
  streamIds(): string[] {
    return [...this.streams.keys()];
  }

  /** The rows mirroring these streams' states. */
  stateRows(streamIds: Iterable<string>): SqlWrite[] {
    const rows: SqlWrite[] = [];
    for (const streamId of streamIds) {
      for (const { definition, state, version } of this.streams.get(streamId) ?? []) {
        for (const projection of definition.projections) if (projection.fromState) rows.push(...projection.fromState(state, version));
      }
    }
    return rows;
  }

  /** Raises each id sequence to the highest id in the log (after an import, say): never hand out one that an event already holds. */
  idSequenceRows(): SqlWrite[] {
    return [...this.highest].map(([sequence, id]) => ({
      sql: `INSERT INTO id_sequences (name, value) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > id_sequences.value THEN excluded.value ELSE id_sequences.value END`,
      params: [sequence, id],
    }));
  }

  private foldsOf(streamId: string): Fold[] | undefined {
    let folds = this.streams.get(streamId);
    if (!folds) {
      const definitions = this.byKind.get(parseStreamId(streamId).kind);
      if (!definitions) return undefined;
      folds = definitions.map((definition) => ({ definition, state: definition.initialState, version: 0 }));
      this.streams.set(streamId, folds);
    }
    return folds;
  }
}
