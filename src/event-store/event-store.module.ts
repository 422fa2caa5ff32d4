import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { issueAggregate } from '../issues/issue.projection.js';
import { projectAggregate } from '../projects/project.projection.js';
import { CLOCK, type Clock } from '../shared/clock.js';
import { userAggregate } from '../users/user.aggregate.js';
import { AggregateStore } from './aggregate-store.js';
import { ProjectionRebuilder } from './projection-rebuilder.js';
import { EventStore } from './event-store.js';
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
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  /** After every module stopped writing (leases released, checkpoints stored). */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
