import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module.js';
import type { HeraldConfig } from './config/config.js';
import { systemClock } from './shared/clock.js';
import { validationPipe } from './shared/validation.js';
import { UsersService } from './users/users.service.js';

export interface HeraldApp {
  app: NestFastifyApplication;
  /** Set only when this start created the admin (an empty database). */
  adminToken?: string;
}

/** Builds the whole service (not listening yet): used by main, the tests and the benchmark. */
export async function createApp(config: HeraldConfig, options: Partial<AppOptions> = {}): Promise<HeraldApp> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // strict JSON: prototype-poisoning keys are refused rather than silently dropped
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { clock: options.clock ?? systemClock, ...options }), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(validationPipe());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const bootstrap = await app.get(UsersService).bootstrap();
  return { app, adminToken: bootstrap?.adminToken };
}
