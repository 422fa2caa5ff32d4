import type { DataSource } from 'typeorm';
import { sqliteHandle } from '../database/data-source.js';
import type { Clock } from '../shared/clock.js';
import type { EventStore } from './event-store.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { UpcasterRegistry } from './upcasters.js';
import { registerUpcasters } from './upcasters.registered.js';

/** The store of the configured engine (the DataSource's): every reader and writer of the log depends on EventStore only. */
export function openEventStore(ds: DataSource, clock: Clock): EventStore {
  return new SqliteEventStore(sqliteHandle(ds), clock, registerUpcasters(new UpcasterRegistry()));
}
