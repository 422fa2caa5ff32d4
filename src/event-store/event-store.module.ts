import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqliteHandle } from '../database/data-source.js';
import { issueAggregate } from '../issues/issue.projection.js';
import { projectAggregate } from '../projects/project.projection.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { userAggregate } from '../users/user.aggregate.js';
import { AggregateStore } from './aggregate-store.js';
import { ProjectionRebuilder } from './projection-rebuilder.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { UpcasterRegistry } from './upcasters.js';
import { registerUpcasters } from './upcasters.registered.js';

export const ISSUES = Symbol('ISSUES');
export const PROJECTS = Symbol('PROJECTS');
export const USERS = Symbol('USERS');

@Global()
@Module({
  providers: [
    {
      provide: SqliteEventStore,
      inject: [DataSource, CLOCK],
      useFactory: (ds: DataSource, clock: Clock) => new SqliteEventStore(sqliteHandle(ds), clock, registerUpcasters(new UpcasterRegistry())),
    },
    { provide: ISSUES, inject: [SqliteEventStore], useFactory: (s: SqliteEventStore) => new AggregateStore(issueAggregate, s) },
    { provide: PROJECTS, inject: [SqliteEventStore], useFactory: (s: SqliteEventStore) => new AggregateStore(projectAggregate, s) },
    { provide: USERS, inject: [SqliteEventStore], useFactory: (s: SqliteEventStore) => new AggregateStore(userAggregate, s) },
    {
      provide: ProjectionRebuilder,
      inject: [SqliteEventStore],
      useFactory: (s: SqliteEventStore) => new ProjectionRebuilder(s, [userAggregate, projectAggregate, issueAggregate]),
    },
  ],
  exports: [SqliteEventStore, ISSUES, PROJECTS, USERS, ProjectionRebuilder],
})
export class EventStoreModule {}
