import type { DataSource } from 'typeorm';
import { pgPool, sqliteHandle } from '../database/data-source.js';
import { preparedStatementsOf } from '../database/engine.js';
import type { Clock } from '../shared/clock.js';
import type { EventStore } from './event-store.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import type { UpcasterRegistry } from './upcasters.js';

/** The store of the configured engine (the DataSource's): every reader and writer of the log depends on EventStore only. */
export function openEventStoreWith(ds: DataSource, clock: Clock, upcasters: UpcasterRegistry, options: { listen?: boolean } = {}): EventStore {
  if (ds.options.type === 'postgres') {
    // TypeORM's own pool: one set of connections per process
    return new PostgresEventStore(pgPool(ds), clock, upcasters, options.listen === false ? undefined : ds.options.url, preparedStatementsOf(ds.options));
  }
  return new SqliteEventStore(sqliteHandle(ds), clock, upcasters);
}
