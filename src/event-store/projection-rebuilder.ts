import { parseStreamId, type AggregateDefinition } from './aggregate-store.js';
import type { DomainEvent, Evolving } from './event.js';
import type { EventStore } from './event-store.js';

/**
 * Drops every read model and rebuilds it from the log, in one transaction: readers
 * see the old rows or the new ones, never a half-built set. Also raises the id
 * sequences to the highest id in the log (after an import, say).
 */
const PAGE = 2000;

/**
 * What the read models hold for a given log: raised whenever that changes (an upcaster that
 * reads old events differently, a projection that writes other rows), so that the next start
 * rebuilds them (rebuildIfOutdated). 2: webhook URL masks and the nulls of issue and webhook
 * changes read through the upcasters of issue 17.
 */
export const READ_MODELS_VERSION = 2;

export class ProjectionRebuilder {
  /** The definitions folded from each kind of stream (a project's stream has the project's and its webhooks'). */
  private readonly byKind = new Map<string, AggregateDefinition<any, DomainEvent>[]>();
  /** Every table the definitions' projections fill: the read-model table list. */
  private readonly tables: string[];

  constructor(
    private readonly store: EventStore,
    aggregates: AggregateDefinition<any, any>[],
  ) {
    for (const a of aggregates) this.byKind.set(a.kind, [...(this.byKind.get(a.kind) ?? []), a]);
    this.tables = [...new Set(aggregates.flatMap((a) => a.projections.map((p) => p.table)))];
  }

  async rebuild(onProgress?: (done: number, total: number) => void): Promise<{ events: number; durationMs: number }> {
    const total = await this.store.head();
    const started = performance.now();
    // no command appends (or projects) while the read models are rebuilt
    const events = await this.store.exclusive(async (tx) => {
      for (const table of this.tables) await tx.exec([{ sql: `DELETE FROM ${table}`, params: [] }]);
      const highest = new Map<string, number>();
      const streams = new Map<string, { definition: AggregateDefinition<any, DomainEvent>; state: unknown; version: number }[]>();
      let count = 0;
      // in pages: better-sqlite3 allows no writes while a read is still iterating
      for (let page = await tx.readAll(0, PAGE); page.length > 0; page = await tx.readAll(page[page.length - 1].position, PAGE)) {
        for (const event of page) {
          count++;
          let folds = streams.get(event.streamId);
          if (!folds) {
            const definitions = this.byKind.get(parseStreamId(event.streamId).kind);
            if (!definitions) continue; // a stream no read model is built from
            folds = definitions.map((definition) => ({ definition, state: definition.initialState, version: 0 }));
            streams.set(event.streamId, folds);
          }
          for (const stream of folds) {
            for (const [sequence, id] of stream.definition.allocatedIds(event as unknown as DomainEvent)) {
              if (id > (highest.get(sequence) ?? 0)) highest.set(sequence, id);
            }
            stream.state = stream.definition.evolve(stream.state, event as unknown as Evolving<DomainEvent>);
            stream.version = event.version;
            for (const projection of stream.definition.projections) if (projection.fromEvent) await tx.exec(projection.fromEvent(event));
          }
        }
        onProgress?.(count, total);
      }
      for (const folds of streams.values()) {
        for (const { definition, state, version } of folds) {
          for (const projection of definition.projections) if (projection.fromState) await tx.exec(projection.fromState(state, version));
        }
      }
      // ids are derived from the log too: never hand out one that an event already holds
      await tx.exec(
        [...highest].map(([sequence, id]) => ({
          sql: `INSERT INTO id_sequences (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > id_sequences.value THEN excluded.value ELSE id_sequences.value END`,
          params: [sequence, id],
        })),
      );
      await tx.exec([
        {
          sql: `UPDATE read_model_versions SET version = ?, rebuilt_at = ? WHERE name = 'read-models'`,
          params: [READ_MODELS_VERSION, tx.now.toISOString()],
        },
      ]);
      return count;
    });
    return { events, durationMs: Math.round(performance.now() - started) };
  }

  /** Rebuilds the read models when they were built by an older READ_MODELS_VERSION; resolves with the rebuild, if one ran. */
  async rebuildIfOutdated(): Promise<{ events: number; durationMs: number } | undefined> {
    const row = await this.store.queryOne<{ version: number | string }>(`SELECT version FROM read_model_versions WHERE name = 'read-models'`);
    if (row && Number(row.version) >= READ_MODELS_VERSION) return undefined;
    return this.rebuild();
  }
}
