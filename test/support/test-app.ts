import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type HeraldConfig } from '../../src/config/config.js';
import { ManualClock, type Clock } from '../../src/shared/clock.js';

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

/** The whole service on a real SQLite file in a temp folder, not listening on a port. */
export async function startTestApp(
  options: { dir?: string; clock?: Clock; env?: NodeJS.ProcessEnv; random?: () => number; logStream?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const dir = options.dir ?? tempDir();
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'herald.sqlite')}`,
    HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    EXTERNAL_URL: 'https://herald.example.com',
    LOG_LEVEL: 'error',
    ...options.env,
  });
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
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
