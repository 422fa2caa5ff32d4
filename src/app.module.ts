import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from './config/config.js';
import { ConsoleModule } from './console/console.module.js';
import { dataSourceOptions, initialize } from './database/data-source.js';
import { STORAGE_GATE, StorageHealth } from './database/storage-health.js';
import { EventStore } from './event-store/event-store.js';
import { EventStoreModule } from './event-store/event-store.module.js';
import { DOMAIN } from './domain.js';
import { EventsFeedModule } from './events-feed/events-feed.module.js';
import { IssuesModule } from './issues/issues.module.js';
import { ProjectsModule } from './projects/projects.module.js';
import { CLOCK, type Clock } from './shared/clock.js';
import { createRootLogger, ROOT_LOGGER } from './shared/logger.js';
import { Metrics } from './shared/metrics.js';
import { Readiness } from './shared/readiness.js';
import { StartUpGate } from './shared/start-up.js';
import { OperationsModule } from './operations/operations.module.js';
import { loadKeyRing, SECRET_BOX, SecretBox } from './shared/secret-box.js';
import { ProblemFilter } from './http/problem.filter.js';
import { AuthGuard } from './users/auth.guard.js';
import { TokenRevocations } from './users/token-revocations.js';
import { UsersModule } from './users/users.module.js';
import { WEBHOOK_RANDOM } from './webhooks/delivery/recorder.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppOptions {
  clock: Clock;
  /** Where log lines go (tests read them); stdout by default. */
  logStream?: NodeJS.WritableStream;
  /** The jitter source of retry times (tests fix it for exact times). */
  random?: () => number;
  /** Extra modules (the benchmark's no-I/O route). */
  extraModules?: Type[];
}

@Module({})
export class AppModule {
  static forRoot(config: HeraldConfig, options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({ useFactory: () => dataSourceOptions(config.database), dataSourceFactory: (options) => initialize(options!) }),
        CqrsModule.forRoot(),
        EventStoreModule.forRoot(DOMAIN),
        UsersModule,
        ProjectsModule,
        IssuesModule,
        EventsFeedModule,
        WebhooksModule,
        ConsoleModule,
        OperationsModule,
        ...(options.extraModules ?? []),
      ],
      providers: [
        { provide: HERALD_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: createRootLogger(config.logLevel, options.logStream) },
        { provide: CLOCK, useValue: options.clock },
        { provide: WEBHOOK_RANDOM, useValue: options.random ?? Math.random },
        TokenRevocations,
        {
          provide: StorageHealth,
          inject: [EventStore, CLOCK],
          useFactory: (store: EventStore, clock: Clock) => {
            const health = new StorageHealth(clock, () => store.probeWrite());
            store.observeStorage(health);
            return health;
          },
        },
        { provide: STORAGE_GATE, useExisting: StorageHealth },
        Metrics,
        Readiness,
        StartUpGate,
        { provide: SECRET_BOX, useFactory: () => new SecretBox(loadKeyRing(config.secrets)) },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
      exports: [HERALD_CONFIG, ROOT_LOGGER, CLOCK, WEBHOOK_RANDOM, TokenRevocations, SECRET_BOX, StorageHealth, STORAGE_GATE, Metrics, Readiness, StartUpGate],
    };
  }
}
