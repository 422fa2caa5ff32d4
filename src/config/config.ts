import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { loadTracingConfig, type TracingConfig } from './tracing-config.js';

/** Everything the service reads from the environment, validated once at start. */
export interface HeraldConfig {
  port: number;
  host: string;
  database: DatabaseConfig;
  adminToken?: string;
  externalUrl: string;
  brand: string;
  botEmail: string;
  bodyLimitBytes: number;
  /** How long a client may take to send its request: slower ones are answered 408 and cut off. */
  http: HttpTimeouts;
  /** Requests per minute per token (or per address without one); 0 turns the limit off. */
  rateLimitPerMinute: number;
  logLevel: string;
  webhooks: WebhookSettings;
  secrets: { current?: string; previous: string[]; keyFile: string };
  /** /health/ready fails when the webhook subscription is further behind the log than this. */
  readiness: { maxLagEvents: number; maxLagSeconds: number };
  /** OpenTelemetry tracing (the OTEL_* variables); null: off, no SDK loaded. */
  tracing: TracingConfig | null;
}

/**
 * Which engine holds the event log, the read models and the delivery queue. SQLite serves
 * one process; PostgreSQL serves several instances on one database.
 */
/** Events per partition on PostgreSQL: a month or so at a hundred events a second (docs/scale.md). */
export const PARTITION_SPAN = 100_000_000;

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string; synchronous?: 'FULL' | 'NORMAL' }
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      /** How long a query may wait for a connection (a new one, or a free one of the pool) before it fails: 503, storage unavailable. 5 s when unset. */
      connectTimeoutMs?: number;
      /** Positions per partition of the log and of the deliveries (docs/scale.md, section 3); 100,000,000 when unset. */
      partitionSpan?: number;
      /**
       * The delivery queue's statements that name no position run as named prepared statements (planned once per
       * connection, not once per call against every partition). Behind PgBouncer in transaction pooling mode this
       * needs PgBouncer 1.21 or newer with max_prepared_statements set; else turn it off. On when unset.
       */
      preparedStatements?: boolean;
    };

export interface HttpTimeouts {
  /** From the connection's first byte (or the end of the previous request) to the end of the request head. */
  headersTimeoutMs: number;
  /** From the end of the head to the end of the body. */
  bodyTimeoutMs: number;
  /** The whole request, head and body. */
  requestTimeoutMs: number;
}

export interface WebhookSettings {
  /** Delays after attempt 1, 2, …; retries stop after the last. */
  retryScheduleMs: number[];
  timeoutMs: number;
  /** Private ranges the operator allows as destinations (metadata addresses stay refused). */
  allowedCidrs: string[];
  /** Hosts accepted for every provider, in addition to its own. */
  extraHosts: string[];
  /** Hosts accepted for one provider, by webhook type (WEBHOOK_EXTRA_HOSTS_SLACK=..., WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT=...). */
  extraHostsByProvider: Record<string, string[]>;
  allowHttp: boolean;
  retentionDays: number;
  /** Deliveries in flight at once, across webhooks. */
  concurrency: number;
  /**
   * Threads that render, sign and send channel messages beside the service's own thread
   * (WEBHOOK_THREADS; 0: on the service's thread). Default: one per core but one, 1 to 4.
   */
  threads: number;
  /** Run the dispatcher and the subscription in the background (tests drive them by hand). */
  background: boolean;
  /** Webhooks one project may have at once (each one widens every decisions page and every event's fan-out). */
  maxPerProject: number;
}

export { ConfigError };

/** The service may not start in this situation (told in one line, like a configuration error). */
export class StartRefused extends Error {
  override readonly name: string = 'StartRefused';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

const POSTGRES_SCHEME = /^postgres(?:ql)?:\/\//i;

/**
 * DATABASE_URL: unset (./data/herald.sqlite), sqlite:<path>, or postgres://user:password@host:port/database
 * (postgresql:// too). An error never repeats a postgres URL: it may hold a password.
 */
export function parseDatabaseUrl(raw: string | undefined, cwd: string, env: NodeJS.ProcessEnv = {}): DatabaseConfig {
  if (!raw) return { kind: 'sqlite', path: resolve(cwd, 'data', 'herald.sqlite') };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/herald.sqlite');
    return { kind: 'sqlite', path: resolve(cwd, path) };
  }
  if (POSTGRES_SCHEME.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'must be a valid URL such as postgres://user:password@host:5432/herald (special characters in the password percent-encoded)');
    }
    if (!url.hostname && !url.searchParams.get('host')) {
      throw new ConfigError('DATABASE_URL', 'postgres:// needs a host, e.g. postgres://user:password@host:5432/herald');
    }
    return {
      kind: 'postgres',
      url: raw,
      poolSize: integer(env, 'HERALD_PG_POOL_SIZE', 10, 1, 1000),
      connectTimeoutMs: integer(env, 'HERALD_PG_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      partitionSpan: integer(env, 'HERALD_PG_PARTITION_SPAN', PARTITION_SPAN, 10, 2 ** 40),
      preparedStatements: bool(env, 'HERALD_PG_PREPARED_STATEMENTS', true),
    };
  }
  throw new ConfigError(
    'DATABASE_URL',
    `must be unset or sqlite:<path>, or postgres://user:password@host:port/database (got scheme "${raw.split(':')[0]}")`,
  );
}

/** The database as it may be printed or logged: a file path, or the URL with any password masked. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return database.path;
  try {
    const url = new URL(database.url);
    if (url.password) url.password = '***';
    for (const name of [...url.searchParams.keys()]) {
      if (/pass/i.test(name)) url.searchParams.set(name, '***');
    }
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

function sqliteSynchronous(raw: string | undefined): 'FULL' | 'NORMAL' {
  const value = (raw || 'FULL').toUpperCase();
  if (value !== 'FULL' && value !== 'NORMAL') throw new ConfigError('HERALD_SQLITE_SYNCHRONOUS', `must be FULL or NORMAL (got "${raw}")`);
  return value;
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurations(name: string, raw: string): number[] {
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new ConfigError(name, 'must list at least one duration such as 5s,5m,30m');
  return parts.map((part) => {
    const match = DURATION.exec(part);
    if (!match) throw new ConfigError(name, `must be comma-separated durations like 5s,5m,2h (got "${part}")`);
    return Number(match[1]) * UNIT_MS[match[2]];
  });
}

function hostList(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function cidrList(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  for (const cidr of list) {
    const [ip, bits] = cidr.split('/');
    const v6 = ip.includes(':');
    const okIp = v6 ? /^[0-9a-f:.]+$/i.test(ip) : /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
    const n = Number(bits);
    if (!okIp || bits === undefined || !Number.isInteger(n) || n < 0 || n > (v6 ? 128 : 32)) {
      throw new ConfigError('WEBHOOK_ALLOWED_CIDRS', `must be comma-separated CIDR ranges like 127.0.0.0/8 (got "${cidr}")`);
    }
  }
  return list;
}

/** WEBHOOK_EXTRA_HOSTS_<TYPE>, by TYPE (`WEBHOOK_EXTRA_HOSTS_GOOGLE_CHAT`: GOOGLE_CHAT, read whole). */
function extraHostsByType(env: NodeJS.ProcessEnv): Record<string, string[]> {
  const byType: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(EXTRA_HOSTS_PREFIX)) byType[name.slice(EXTRA_HOSTS_PREFIX.length)] = hostList(value);
  }
  return byType;
}

const EXTRA_HOSTS_PREFIX = 'WEBHOOK_EXTRA_HOSTS_';

/**
 * A WEBHOOK_EXTRA_HOSTS_<TYPE> whose TYPE is none of the webhook types is a typo, refused
 * rather than silently ignored. The types are the provider registry's, which lives above
 * this layer: the composition (createApp) passes them.
 */
export function assertExtraHostTypes(settings: WebhookSettings, types: readonly string[]): void {
  for (const type of Object.keys(settings.extraHostsByProvider)) {
    if (!types.includes(type)) {
      throw new ConfigError(`${EXTRA_HOSTS_PREFIX}${type}`, `names no webhook type: use ${EXTRA_HOSTS_PREFIX}<TYPE> with TYPE one of ${types.join(', ')}`);
    }
  }
}

export function loadWebhookSettings(env: NodeJS.ProcessEnv): WebhookSettings {
  const extraHostsByProvider = extraHostsByType(env);
  return {
    retryScheduleMs: parseDurations('WEBHOOK_RETRY_SCHEDULE', env.WEBHOOK_RETRY_SCHEDULE || '5s,5m,30m,2h,5h,10h,10h'),
    timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    allowedCidrs: cidrList(env.WEBHOOK_ALLOWED_CIDRS),
    extraHosts: hostList(env.WEBHOOK_EXTRA_HOSTS),
    extraHostsByProvider,
    allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
    retentionDays: integer(env, 'WEBHOOK_RETENTION_DAYS', 14, 1, 3650),
    concurrency: integer(env, 'WEBHOOK_CONCURRENCY', 64, 1, 10_000),
    threads: integer(env, 'WEBHOOK_THREADS', Math.min(4, Math.max(1, availableParallelism() - 1)), 0, 64),
    background: bool(env, 'HERALD_BACKGROUND_WORKERS', true),
    maxPerProject: integer(env, 'HERALD_MAX_WEBHOOKS_PER_PROJECT', 100, 1, 10_000),
  };
}

export function loadHttpTimeouts(env: NodeJS.ProcessEnv): HttpTimeouts {
  const headersTimeoutMs = integer(env, 'HERALD_HEADERS_TIMEOUT_MS', 10_000, 50, 600_000);
  const bodyTimeoutMs = integer(env, 'HERALD_BODY_TIMEOUT_MS', 20_000, 50, 600_000);
  const requestTimeoutMs = integer(env, 'HERALD_REQUEST_TIMEOUT_MS', 30_000, 50, 600_000);
  // Node refuses a head timeout longer than the whole request's
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HERALD_HEADERS_TIMEOUT_MS', `must not exceed HERALD_REQUEST_TIMEOUT_MS (${headersTimeoutMs} > ${requestTimeoutMs})`);
  }
  return { headersTimeoutMs, bodyTimeoutMs, requestTimeoutMs };
}

function secretKey(name: string, raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const trimmed = raw.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed) ? 32 : Buffer.from(trimmed, 'base64').length;
  if (bytes !== 32) throw new ConfigError(name, 'must be 32 bytes, base64 or hex (openssl rand -base64 32)');
  return trimmed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HeraldConfig {
  const parsed = parseDatabaseUrl(env.DATABASE_URL, cwd, env);
  const synchronous = sqliteSynchronous(env.HERALD_SQLITE_SYNCHRONOUS);
  // checked with either engine: a wrong value is a mistake either way
  integer(env, 'HERALD_PG_POOL_SIZE', 10, 1, 1000);
  integer(env, 'HERALD_PG_CONNECT_TIMEOUT_MS', 5000, 100, 600_000);
  integer(env, 'HERALD_PG_PARTITION_SPAN', PARTITION_SPAN, 10, 2 ** 40);
  const database: DatabaseConfig = parsed.kind === 'sqlite' ? { ...parsed, synchronous } : parsed;
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const externalUrl = (env.EXTERNAL_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(externalUrl);
  } catch {
    throw new ConfigError('EXTERNAL_URL', `must be an absolute URL (got "${externalUrl}")`);
  }
  const adminToken = env.HERALD_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('HERALD_ADMIN_TOKEN', 'must be at least 16 characters');
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    database,
    adminToken,
    externalUrl,
    brand: env.HERALD_BRAND || 'Bytebase',
    botEmail: env.HERALD_BOT_EMAIL || 'support@bytebase.com',
    bodyLimitBytes: integer(env, 'HERALD_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    http: loadHttpTimeouts(env),
    rateLimitPerMinute: integer(env, 'HERALD_RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
    logLevel: env.LOG_LEVEL || 'info',
    webhooks: loadWebhookSettings(env),
    readiness: {
      maxLagEvents: integer(env, 'HERALD_READY_MAX_LAG_EVENTS', 10_000, 1, 100_000_000),
      maxLagSeconds: integer(env, 'HERALD_READY_MAX_LAG_SECONDS', 60, 1, 86_400),
    },
    tracing: loadTracingConfig(env),
    secrets: {
      current: secretKey('HERALD_SECRET_KEY', env.HERALD_SECRET_KEY),
      previous: (env.HERALD_SECRET_KEY_PREVIOUS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => secretKey('HERALD_SECRET_KEY_PREVIOUS', k)!),
      // beside the SQLite file; with PostgreSQL, ./data/secret.key (instances sharing one database
      // must share one key: set HERALD_SECRET_KEY on each)
      keyFile: database.kind === 'sqlite' ? resolve(dirname(database.path), 'secret.key') : resolve(cwd, 'data', 'secret.key'),
    },
  };
}

export const HERALD_CONFIG = Symbol('HERALD_CONFIG');
