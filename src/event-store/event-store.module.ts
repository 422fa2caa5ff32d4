import { Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pgPool } from '../database/data-source.js';
import { partitionSpanOf } from '../database/engine.js';
import { PartitionKeeper } from '../database/partition-keeper.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { AggregateStore, type AggregateDefinition } from './aggregate-store.js';
import type { RecordedEvent } from './event.js';
import type { EventSchemas } from './event-schema.js';
import { ProjectionRebuilder } from './projection-rebuilder.js';
import { EventStore } from './event-store.js';
import { LogStartUp } from './log-start-up.js';
import { openEventStoreWith } from './open-event-store.js';
import { UpcasterRegistry } from './upcasters.js';

/** One kind of stream: its AggregateStore is provided under the token the feature exports. */
export interface StreamRegistration {
  token: symbol;
  definition: AggregateDefinition<any, any>;
}

/** What the top of the application (src/domain.ts) registers: the store knows no feature itself. */
export interface DomainRegistrations {
  /** Every kind of stream (the rebuilder builds the read models of each). */
  streams: StreamRegistration[];
  /** Every event type of the log with its current schema: the start-up check judges the log by it. */
  schemas: EventSchemas;
  /** Every upcaster of the log. */
  registerUpcasters(registry: UpcasterRegistry): UpcasterRegistry;
  /** An event as it may leave the service (credentials hidden): the feeds and audits show events through it. */
  redact(event: RecordedEvent): RecordedEvent;
}

/** The DomainRegistrations' redact function, for whoever shows events outside the service. */
export const REDACT_EVENT = Symbol('REDACT_EVENT');
export type RedactEvent = DomainRegistrations['redact'];

@Module({})
export class EventStoreModule implements OnModuleDestroy, OnApplicationShutdown {
  static forRoot(domain: DomainRegistrations): DynamicModule {
    const tokens = domain.streams.map((s) => s.token);
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        {
          provide: EventStore,
          inject: [DataSource, CLOCK],
          useFactory: (ds: DataSource, clock: Clock) => openEventStoreWith(ds, clock, domain.registerUpcasters(new UpcasterRegistry())),
        },
        ...domain.streams.map(({ token, definition }) => ({ provide: token, inject: [EventStore], useFactory: (s: EventStore) => new AggregateStore(definition, s) })),
        {
          provide: ProjectionRebuilder,
          inject: [EventStore, CLOCK],
          useFactory: (s: EventStore, clock: Clock) => new ProjectionRebuilder(s, domain.streams.map((r) => r.definition), clock),
        },
        {
          provide: LogStartUp,
          inject: [EventStore, ProjectionRebuilder],
          useFactory: (s: EventStore, rebuilder: ProjectionRebuilder) => new LogStartUp(s, domain.schemas, rebuilder),
        },
        { provide: REDACT_EVENT, useValue: domain.redact },
        {
          // PostgreSQL's partitions of the log (and of the tables partitioned like it) kept ahead of it; SQLite has none
          provide: PartitionKeeper,
          inject: [DataSource, EventStore],
          useFactory: (ds: DataSource, s: EventStore) => (ds.options.type === 'postgres' ? new PartitionKeeper(pgPool(ds), s, partitionSpanOf(ds.options)) : null),
        },
      ],
      exports: [EventStore, ...tokens, ProjectionRebuilder, LogStartUp, REDACT_EVENT, PartitionKeeper],
    };
  }

  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    private readonly rebuilder: ProjectionRebuilder,
  ) {}

  /** A rebuild still running stops at its next slice (the old read models stay; its shadows go at the next rebuild). */
  async onModuleDestroy(): Promise<void> {
    await this.rebuilder.stop();
  }

  /** After every module stopped writing (leases released, checkpoints stored). */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
