import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { StorageHealth } from '../database/storage-health.js';
import { EventStore } from '../event-store/event-store.js';
import { Metrics } from '../shared/metrics.js';

/** The metrics of the log and of storage: events appended, round trips, outages and the requests they refused. */
@Injectable()
export class StoreMetrics implements OnModuleDestroy {
  private readonly unsubscribe: () => void;

  constructor(@Inject(Metrics) metrics: Metrics, store: EventStore, storage: StorageHealth) {
    const registers = [metrics.registry];
    const eventsAppended = new Counter({
      name: 'herald_events_appended_total',
      help: 'Events appended to the log, by type',
      labelNames: ['type'] as const,
      registers,
    });
    this.unsubscribe = store.onCommit((_position, types) => {
      for (const type of types) eventsAppended.inc({ type });
    });
    let counted = 0;
    new Counter({
      name: 'herald_database_round_trips_total',
      help: 'Statements sent to the database (on PostgreSQL, each a round trip to the server)',
      registers,
      collect() {
        this.inc(store.roundTrips - counted);
        counted = store.roundTrips;
      },
    });
    new Gauge({
      name: 'herald_storage_available',
      help: '1 while the database takes writes, 0 during a storage outage (a full disk, a lost database server)',
      registers,
      collect() {
        this.set(storage.available ? 1 : 0);
      },
    });
    new Counter({
      name: 'herald_storage_outages_total',
      help: 'Storage outages since the start',
      registers,
      collect() {
        this.reset();
        this.inc(storage.totals.outages);
      },
    });
    new Counter({
      name: 'herald_storage_refused_requests_total',
      help: 'Requests answered 503 because storage was unavailable: commands (writes) and queries (reads)',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ kind: 'command' }, storage.totals.commands);
        this.inc({ kind: 'query' }, storage.totals.queries);
      },
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
