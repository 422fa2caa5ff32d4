import { Global, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { withDatabaseLock } from '../database/data-source.js';
import { issueAggregate } from '../issues/issue.projection.js';
import { projectAggregate } from '../projects/project.projection.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { userAggregate } from '../users/user.aggregate.js';
import { AggregateStore } from './aggregate-store.js';
import { ProjectionRebuilder } from './projection-rebuilder.js';
import { EventStore } from './event-store.js';
import { EVENT_SCHEMAS } from './event-schemas.registered.js';
import { assertLogConforms } from './log-check.js';
import { openEventStore } from './open-event-store.js';

export const ISSUES = Symbol('ISSUES');
export const PROJECTS = Symbol('PROJECTS');
export const USERS = Symbol('USERS');

@Global()
@Module({
  providers: [
    { provide: EventStore, inject: [DataSource, CLOCK], useFactory: openEventStore },
    { provide: ISSUES, inject: [EventStore], useFactory: (s: EventStore) => new AggregateStore(issueAggregate, s) },
    { provide: PROJECTS, inject: [EventStore], useFactory: (s: EventStore) => new AggregateStore(projectAggregate, s) },
    { provide: USERS, inject: [EventStore], useFactory: (s: EventStore) => new AggregateStore(userAggregate, s) },
    {
      provide: ProjectionRebuilder,
      inject: [EventStore],
      useFactory: (s: EventStore) => new ProjectionRebuilder(s, [userAggregate, projectAggregate, issueAggregate]),
    },
  ],
  exports: [EventStore, ISSUES, PROJECTS, USERS, ProjectionRebuilder],
})
export class EventStoreModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EventStore');

  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    private readonly rebuilder: ProjectionRebuilder,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * Before anything reads the log (the webhook subscription starts after every module's
   * init): every event must match its schema, or the start fails naming the first that does
   * not; read models built by an older READ_MODELS_VERSION are rebuilt (one instance at a time).
   */
  async onModuleInit(): Promise<void> {
    const started = performance.now();
    const events = await assertLogConforms(this.store, EVENT_SCHEMAS);
    this.logger.log({ events, durationMs: Math.round(performance.now() - started) }, 'every event of the log matches its schema');
    const rebuilt = await withDatabaseLock(this.dataSource, 'read-models', () => this.rebuilder.rebuildIfOutdated());
    if (rebuilt) this.logger.log(rebuilt, 'read models rebuilt from the log (built by an older version)');
  }

  /** After every module stopped writing (leases released, checkpoints stored). */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
