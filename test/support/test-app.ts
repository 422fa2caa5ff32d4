import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type HeraldConfig } from '../../src/config/config.js';
import { ManualClock, type Clock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export type TestEngine = 'sqlite' | 'postgres';

/** The engine e2e suites run on: the jest project sets HERALD_TEST_ENGINE (see jest.config.js). */
export const testEngine = (): TestEngine => (process.env.HERALD_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite');

/** On PostgreSQL, one database per test folder: a restart on the same folder finds the same data. */
const databases = new Map<string, Promise<TestDatabase>>();
function databaseFor(dir: string): Promise<TestDatabase> {
  let database = databases.get(dir);
  if (!database) {
    database = createTestDatabase();
    databases.set(dir, database);
  }
  return database;
}

/** DATABASE_URL for a test folder on the engine under test. */
export async function testDatabaseUrl(dir: string, engine: TestEngine = testEngine()): Promise<string> {
  return engine === 'postgres' ? (await databaseFor(dir)).url : `sqlite:${join(dir, 'herald.sqlite')}`;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  routes: string[];
  http: TestAgent;
  /** The admin's Authorization header. */
  auth: { Authorization: string };
  config: HeraldConfig;
  clock: Clock;
  close(): Promise<void>;
  dir: string;
}

export function tempDir(prefix = 'herald-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestAppOptions {
  dir?: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  random?: () => number;
  logStream?: NodeJS.WritableStream;
  engine?: TestEngine;
}

/** The whole service on the engine under test (a SQLite file in a temp folder, or a fresh PostgreSQL database), not listening on a port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? tempDir();
  const engine = options.engine ?? testEngine();
  const config = loadConfig(
    {
      DATABASE_URL: await testDatabaseUrl(dir, engine),
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      EXTERNAL_URL: 'https://herald.example.com',
      LOG_LEVEL: 'error',
      ...options.env,
    },
    // the secret key file (PostgreSQL: ./data/secret.key) goes to the test folder
    dir,
  );
  const clock = options.clock ?? new ManualClock('2026-03-01T10:00:00.000Z');
  const { app, routes } = await createApp(config, { clock, random: options.random, logStream: options.logStream });
  const http = request(app.getHttpServer());
  return {
    app,
    routes,
    http,
    auth: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    config,
    clock,
    dir,
    close: async () => {
      await app.close();
      if (!options.dir) {
        rmSync(dir, { recursive: true, force: true });
        const database = databases.get(dir);
        databases.delete(dir);
        await (await database)?.drop();
      }
    },
  };
}

/**
 * The service for the tests of one describe block: started in a beforeAll registered here
 * (so before the block's own set-up), closed in an afterAll. Read it inside hooks and tests.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(options);
  });
  afterAll(() => started?.close());
  return new Proxy({} as TestApp, {
    get(_, key) {
      if (!started) throw new Error('the test app starts in beforeAll: read it inside hooks and tests');
      return started[key as keyof TestApp];
    },
  });
}
