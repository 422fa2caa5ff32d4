import { parseStreamId, type AggregateDefinition } from '../../src/event-store/aggregate-store.js';
import type { DomainEvent, Evolving } from '../../src/event-store/event.js';
import { LOG_START, type EventStore } from '../../src/event-store/event-store.js';

/**
 * The rebuild as it was before issue 23, kept as the oracle of the sliced one: one
 * transaction that holds the log (no append meanwhile), empties every read-model table,
 * replays the whole log into them and raises the id sequences.
 */
export async function referenceRebuild(store: EventStore, aggregates: AggregateDefinition<any, any>[]): Promise<void> {
  const byKind = new Map<string, AggregateDefinition<any, DomainEvent>[]>();
  for (const a of aggregates) byKind.set(a.kind, [...(byKind.get(a.kind) ?? []), a]);
  const tables = [...new Set(aggregates.flatMap((a) => a.projections.map((p) => p.table)))];
  await store.transact(async (tx) => {
    if (store.engine === 'postgres') await tx.exec([{ sql: `LOCK TABLE events IN EXCLUSIVE MODE`, params: [] }]);
    for (const table of tables) await tx.exec([{ sql: `DELETE FROM ${table}`, params: [] }]);
    const highest = new Map<string, number>();
    const streams = new Map<string, { definition: AggregateDefinition<any, DomainEvent>; state: unknown; version: number }[]>();
    for (let cursor = LOG_START; ; ) {
      const { events, cursor: next } = await tx.readLogLocked(cursor, 2000);
      if (events.length === 0) break;
      cursor = next;
      for (const event of events) {
        let folds = streams.get(event.streamId);
        if (!folds) {
          const definitions = byKind.get(parseStreamId(event.streamId).kind);
          if (!definitions) continue;
          folds = definitions.map((definition) => ({ definition, state: definition.initialState, version: 0 }));
          streams.set(event.streamId, folds);
        }
        for (const stream of folds) {
          for (const [sequence, id] of stream.definition.allocatedIds(event as unknown as DomainEvent)) if (id > (highest.get(sequence) ?? 0)) highest.set(sequence, id);
          stream.state = stream.definition.evolve(stream.state, event as unknown as Evolving<DomainEvent>);
          stream.version = event.version;
          for (const projection of stream.definition.projections) if (projection.fromEvent) await tx.exec(projection.fromEvent(event));
        }
      }
    }
    for (const folds of streams.values()) {
      for (const { definition, state, version } of folds) for (const projection of definition.projections) if (projection.fromState) await tx.exec(projection.fromState(state, version));
    }
    await tx.exec(
      [...highest].map(([sequence, id]) => ({
        sql: `INSERT INTO id_sequences (name, value) VALUES (?, ?)
              ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > id_sequences.value THEN excluded.value ELSE id_sequences.value END`,
        params: [sequence, id],
      })),
    );
  });
}

/** Every row of every read model, in a stable order: what two rebuilds are compared by. */
export async function readModelRows(store: EventStore, aggregates: AggregateDefinition<any, any>[]): Promise<Record<string, unknown[]>> {
  const tables = [...new Set(aggregates.flatMap((a) => a.projections.map((p) => p.table)))].sort();
  const rows: Record<string, unknown[]> = {};
  for (const table of tables) {
    const all = await store.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
    rows[table] = all.map((row) => JSON.stringify(row)).sort();
  }
  return rows;
}
