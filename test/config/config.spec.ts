import { resolve } from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { assertExtraHostTypes, ConfigError, describeDatabase, loadConfig, loadWebhookSettings, parseDatabaseUrl } from '../../src/config/config.js';
import { WEBHOOK_TYPES } from '../../src/webhooks/providers/registry.js';

describe('DATABASE_URL', () => {
  const cwd = '/srv/herald';

  it('is SQLite when unset or sqlite:<path>', () => {
    expect(loadConfig({}, cwd).database).toEqual({ kind: 'sqlite', path: resolve(cwd, 'data/herald.sqlite'), synchronous: 'FULL' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:./x.sqlite', HERALD_SQLITE_SYNCHRONOUS: 'normal' }, cwd).database).toEqual({
      kind: 'sqlite', path: resolve(cwd, 'x.sqlite'), synchronous: 'NORMAL',
    });
  });

  it('selects PostgreSQL with postgres:// or postgresql://, with a pool of HERALD_PG_POOL_SIZE connections (10 by default)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://herald:s3cret@db.internal:5432/herald' }, cwd).database).toEqual({
      kind: 'postgres', url: 'postgres://herald:s3cret@db.internal:5432/herald', poolSize: 10, connectTimeoutMs: 5000, partitionSpan: 100_000_000, preparedStatements: true,
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db.internal/herald', HERALD_PG_POOL_SIZE: '25' }, cwd).database).toEqual({
      kind: 'postgres', url: 'postgresql://db.internal/herald', poolSize: 25, connectTimeoutMs: 5000, partitionSpan: 100_000_000, preparedStatements: true,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/herald', HERALD_PG_CONNECT_TIMEOUT_MS: '2500' }, cwd).database).toMatchObject({ connectTimeoutMs: 2500 });
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/herald', HERALD_PG_PARTITION_SPAN: '5000' }, cwd).database).toMatchObject({ partitionSpan: 5000 });
    expect(() => loadConfig({ HERALD_PG_PARTITION_SPAN: '9' }, cwd)).toThrow(/HERALD_PG_PARTITION_SPAN.*from 10/);
    // behind PgBouncer in transaction pooling mode older than 1.21 (or without max_prepared_statements): no named statements
    expect(loadConfig({ DATABASE_URL: 'postgres://db.internal/herald', HERALD_PG_PREPARED_STATEMENTS: 'false' }, cwd).database).toMatchObject({ preparedStatements: false });
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db.internal/herald', HERALD_PG_PREPARED_STATEMENTS: 'sometimes' }, cwd)).toThrow(/HERALD_PG_PREPARED_STATEMENTS/);
    // a Unix socket in the host parameter
    expect(parseDatabaseUrl('postgres:///herald?host=/var/run/postgresql', cwd).kind).toBe('postgres');
  });

  it('refuses a wrong value naming the variable and the rule, never repeating a password', () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env, cwd);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(error({ DATABASE_URL: 'mysql://x' })).toMatch(/^invalid configuration: DATABASE_URL must be unset or sqlite:<path>, or postgres:\/\/.* \(got scheme "mysql"\)$/);
    expect(error({ DATABASE_URL: 'postgres://herald:s3cret@' })).toMatch(/^invalid configuration: DATABASE_URL /);
    expect(error({ DATABASE_URL: 'postgres://herald:s3cret@' })).not.toContain('s3cret');
    expect(error({ DATABASE_URL: 'postgres://herald:s3cret@db/herald', HERALD_PG_POOL_SIZE: '0' })).toBe(
      'invalid configuration: HERALD_PG_POOL_SIZE must be an integer from 1 to 1000 (got "0")',
    );
    expect(error({ HERALD_PG_POOL_SIZE: 'many' })).toMatch(/HERALD_PG_POOL_SIZE must be an integer/);
    expect(error({ HERALD_PG_CONNECT_TIMEOUT_MS: '10' })).toBe('invalid configuration: HERALD_PG_CONNECT_TIMEOUT_MS must be an integer from 100 to 600000 (got "10")');
  });

  it('keeps the secret key beside the SQLite file, or in ./data with PostgreSQL', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/herald/h.sqlite' }, cwd).secrets.keyFile).toBe('/var/lib/herald/secret.key');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/herald' }, cwd).secrets.keyFile).toBe(resolve(cwd, 'data/secret.key'));
  });

  it('is described for logs with the password masked', () => {
    expect(describeDatabase({ kind: 'sqlite', path: '/data/h.sqlite' })).toBe('/data/h.sqlite');
    const described = describeDatabase({ kind: 'postgres', url: 'postgres://herald:s3cret@db.internal:5432/herald?sslmode=require&password=other', poolSize: 10 });
    expect(described).toBe('postgres://herald:***@db.internal:5432/herald?sslmode=require&password=***');
    expect(describeDatabase({ kind: 'postgres', url: 'postgres://db.internal/herald', poolSize: 10 })).toBe('postgres://db.internal/herald');
  });
});

describe('WEBHOOK_EXTRA_HOSTS_<TYPE>', () => {
  it('takes a host list for every webhook type of the registry, underscores included', () => {
    expect(loadWebhookSettings({ WEBHOOK_EXTRA_HOSTS_SLACK: 'Chat.Internal.example, mm.example' }).extraHostsByProvider).toEqual({ SLACK: ['chat.internal.example', 'mm.example'] });
    // a type with an underscore (GOOGLE_CHAT) is read whole, not cut at the underscore
    expect(loadWebhookSettings({ WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT: 'chat.local' }).extraHostsByProvider).toEqual({ GOOGLE_CHAT: ['chat.local'] });
  });

  it('refuses a suffix that names no webhook type of the registry, listing the types; the app does not start', async () => {
    expect(() => assertExtraHostTypes(loadWebhookSettings({ WEBHOOK_EXTRA_HOSTS_SLAK: 'x.example' }), WEBHOOK_TYPES)).toThrow(
      /^invalid configuration: WEBHOOK_EXTRA_HOSTS_SLAK names no webhook type: use WEBHOOK_EXTRA_HOSTS_<TYPE> with TYPE one of SLACK, DISCORD, .*CUSTOM$/,
    );
    expect(() => assertExtraHostTypes(loadWebhookSettings({ WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT: 'chat.local' }), WEBHOOK_TYPES)).not.toThrow();
    await expect(createApp(loadConfig({ WEBHOOK_EXTRA_HOSTS_SLAK: 'x.example' }, '/srv'))).rejects.toThrow(ConfigError);
  });
});

describe('HTTP timeouts', () => {
  it('default to 10 s for the head, 20 s for the body and 30 s for the whole request, and are set in milliseconds', () => {
    expect(loadConfig({}, '/srv').http).toEqual({ headersTimeoutMs: 10_000, bodyTimeoutMs: 20_000, requestTimeoutMs: 30_000 });
    expect(loadConfig({ HERALD_HEADERS_TIMEOUT_MS: '300', HERALD_BODY_TIMEOUT_MS: '400', HERALD_REQUEST_TIMEOUT_MS: '1000' }, '/srv').http).toEqual({
      headersTimeoutMs: 300,
      bodyTimeoutMs: 400,
      requestTimeoutMs: 1000,
    });
  });

  it('refuses a head timeout longer than the whole request’s, and values out of range', () => {
    expect(() => loadConfig({ HERALD_HEADERS_TIMEOUT_MS: '5000', HERALD_REQUEST_TIMEOUT_MS: '1000' }, '/srv')).toThrow(
      'invalid configuration: HERALD_HEADERS_TIMEOUT_MS must not exceed HERALD_REQUEST_TIMEOUT_MS (5000 > 1000)',
    );
    expect(() => loadConfig({ HERALD_BODY_TIMEOUT_MS: '0' }, '/srv')).toThrow(/HERALD_BODY_TIMEOUT_MS must be an integer from 50 to 600000/);
  });
});

describe('HERALD_MAX_WEBHOOKS_PER_PROJECT', () => {
  it('caps a project at 100 webhooks by default, and takes another cap', () => {
    expect(loadConfig({}, '/srv').webhooks.maxPerProject).toBe(100);
    expect(loadConfig({ HERALD_MAX_WEBHOOKS_PER_PROJECT: '250' }, '/srv').webhooks.maxPerProject).toBe(250);
  });

  it('refuses a cap that is no integer from 1 to 10000, naming the variable and the rule', () => {
    for (const raw of ['0', '-1', '10001', 'many', '2.5']) {
      expect(() => loadConfig({ HERALD_MAX_WEBHOOKS_PER_PROJECT: raw }, '/srv')).toThrow(`invalid configuration: HERALD_MAX_WEBHOOKS_PER_PROJECT must be an integer from 1 to 10000 (got "${raw}")`);
    }
  });
});
