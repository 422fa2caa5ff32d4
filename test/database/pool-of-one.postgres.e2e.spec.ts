import { api } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * HERALD_PG_POOL_SIZE=1 is a valid setting: the start's database-wide locks (migrations,
 * bootstrap) must not hold the pool's only connection while the work under them waits
 * for one (it hung there for good).
 */
describe('PostgreSQL with a pool of one connection', () => {
  let database: TestDatabase | undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('starts (migrations and bootstrap under their locks) and serves', async () => {
    database = await createTestDatabase();
    const starting = startTestApp({ engine: 'sqlite', env: { DATABASE_URL: database.url, HERALD_PG_POOL_SIZE: '1' } });
    // (engine sqlite only keeps startTestApp from making a database of its own: DATABASE_URL above is this one)
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the start did not finish in 20 s')), 20_000).unref());
    t = await Promise.race([starting, timeout]);
    const project = await api(t).createProject('One');
    expect(project.id).toBeGreaterThan(0);
  }, 30_000);
});
