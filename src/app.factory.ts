import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppModule, type AppOptions } from './app.module.js';
import { assertExtraHostTypes, type HeraldConfig } from './config/config.js';
import { systemClock } from './shared/clock.js';
import { NestPinoLogger, ROOT_LOGGER } from './shared/logger.js';
import { Metrics } from './shared/metrics.js';
import { serveOpenApi } from './shared/openapi.js';
import { validationPipe } from './http/validation.js';
import { installBodyPolicy } from './http/body-policy.js';
import { edgeOptions, installBodyTimeout } from './http/http-edge.js';
import { UsersService } from './users/users.service.js';
import { DataSource } from 'typeorm';
import { WEBHOOK_TYPES } from './webhooks/providers/registry.js';
import { withDatabaseLock } from './database/data-source.js';
import { LogStartUp } from './event-store/log-start-up.js';
import { PartitionKeeper } from './database/partition-keeper.js';
import { installStartingAnswer } from './http/starting.js';
import { StartUpGate } from './shared/start-up.js';
import { installRequestTracing } from './http/request-tracing.js';
import { startTracing, type Tracing } from './tracing.js';

export interface HeraldApp {
  app: NestFastifyApplication;
  /** Every route the app serves, as "METHOD /path" (the authorization table test checks each has an entry). */
  routes: string[];
  /** Set only when this start created the admin (an empty database). */
  adminToken?: string;
}

export interface CreateOptions extends Partial<AppOptions> {
  /**
   * Starts listening once the app is built, before the start-up work (the check of the log, a
   * rebuild of outdated read models): /health/live answers from then on, /health/ready and
   * every other route say how far the start-up got until it is done (main). Without it the app
   * is returned started, not listening (the tests and the benchmark).
   */
  listen?: (app: NestFastifyApplication, close: () => Promise<void>) => Promise<unknown>;
}

/** Builds and starts the whole service: used by main, the tests and the benchmark. */
export async function createApp(config: HeraldConfig, options: CreateOptions = {}): Promise<HeraldApp> {
  assertExtraHostTypes(config.webhooks, WEBHOOK_TYPES);
  // before anything makes a span; stopped (what it holds exported) once the app has closed
  const tracing = config.tracing ? await startTracing(config.tracing) : null;
  try {
    return await build(config, options, tracing);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
}

async function build(config: HeraldConfig, options: CreateOptions, tracing: Tracing | null): Promise<HeraldApp> {
  const adapter = new FastifyAdapter({
    ...edgeOptions(config.http),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    // a caller's id is kept when it is sane, else a new one is made
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // strict JSON: prototype-poisoning keys are refused rather than silently dropped
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  if (tracing) {
    // first: every other hook and the whole request run inside its span
    installRequestTracing(adapter.getInstance());
    // the HTTP server closes after the modules stopped (attempts in flight recorded, their spans ended):
    // what the SDK still holds is exported then
    adapter.getInstance().addHook('onClose', () => tracing.shutdown());
  }
  let gate: StartUpGate | undefined;
  installStartingAnswer(adapter.getInstance(), () => gate);
  installBodyPolicy(adapter.getInstance(), config.bodyLimitBytes);
  installBodyTimeout(adapter.getInstance(), config.http.bodyTimeoutMs);
  // every response names its request (the caller's x-request-id, or a new one): the same id is the
  // correlation id of the events the request appends
  adapter.getInstance().addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Closing closes the keep-alive connections idle at that moment; one still answering a
  // request goes idle later and would hold the close up until its keep-alive timeout
  // (72 s): close those as they go idle, while requests in flight still finish
  adapter.getInstance().addHook('preClose', (done) => {
    const server = adapter.getInstance().server;
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
    done();
  });
  const routes: string[] = [];
  adapter.getInstance().addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { clock: options.clock ?? systemClock, ...options }), adapter, {
    bufferLogs: true,
    // only the body policy's parser (see installBodyPolicy): no form bodies
    bodyParser: false,
  });
  // closed once, by whichever asks first: a signal during the start-up work (main), then the start's own failure below
  // (a function of its own: Nest's application proxy ignores an assignment to app.close)
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  const rootLogger = app.get<PinoLogger>(ROOT_LOGGER);
  app.useLogger(new NestPinoLogger(rootLogger));
  const metrics = app.get(Metrics);
  const logRequests = rootLogger.isLevelEnabled('info');
  adapter.getInstance().addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    // one line per request: no headers, no bodies (they may carry tokens and webhook URLs)
    if (logRequests) {
      rootLogger.info(
        { requestId: request.id, method: request.method, url: request.url.split('?')[0], route, status: reply.statusCode, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
        'request completed',
      );
    }
  });
  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // per token (its hash: tokens never sit in memory as keys), else per address
      keyGenerator: (request) => {
        const header = request.headers.authorization;
        return typeof header === 'string' ? `t:${createHash('sha256').update(header).digest('base64url')}` : `a:${request.ip}`;
      },
      allowList: (request) => request.url.startsWith('/health/'),
      // thrown, so the problem filter answers it like every other error (with the Retry-After the plugin set)
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error(`at most ${context.max} requests per minute per token; retry in ${Math.ceil(context.ttl / 1000)} s`), { statusCode: 429 }),
    });
  }
  app.useGlobalPipes(validationPipe());
  serveOpenApi(app);
  try {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const startUp = app.get(StartUpGate);
    gate = startUp;
    await options.listen?.(app, close);
    // PostgreSQL: partitions ahead of the log before anything is appended (null on SQLite)
    await (app.get(PartitionKeeper) as PartitionKeeper | null)?.start();
    await app.get(LogStartUp).run((phase, done, total) => startUp.report(phase, done, total));
    const bootstrap = await withDatabaseLock(app.get(DataSource), 'bootstrap', () => app.get(UsersService).bootstrap());
    // the webhook subscription, the dispatcher and the retention sweep start now; every route answers
    startUp.open();
    return { app, routes, adminToken: bootstrap?.adminToken };
  } catch (error) {
    // a start refused (an event log that fails its schemas, say) lets go of the database before it says why
    await close().catch(() => undefined);
    throw error;
  }
}
