import { resolve } from 'node:path';

/** Everything the service reads from the environment, validated once at start. */
export interface HeraldConfig {
  port: number;
  host: string;
  database: { kind: 'sqlite'; path: string; synchronous?: 'FULL' | 'NORMAL' };
  adminToken?: string;
  externalUrl: string;
  brand: string;
  botEmail: string;
  bodyLimitBytes: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(variable: string, rule: string) {
    super(`invalid configuration: ${variable} ${rule}`);
    this.name = 'ConfigError';
  }
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

export function parseDatabaseUrl(raw: string | undefined, cwd: string): HeraldConfig['database'] {
  if (!raw) return { kind: 'sqlite', path: resolve(cwd, 'data', 'herald.sqlite') };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/herald.sqlite');
    return { kind: 'sqlite', path: resolve(cwd, path) };
  }
  throw new ConfigError('DATABASE_URL', `must be unset or sqlite:<path> (got scheme "${raw.split(':')[0]}")`);
}

function sqliteSynchronous(raw: string | undefined): 'FULL' | 'NORMAL' {
  const value = (raw || 'FULL').toUpperCase();
  if (value !== 'FULL' && value !== 'NORMAL') throw new ConfigError('HERALD_SQLITE_SYNCHRONOUS', `must be FULL or NORMAL (got "${raw}")`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HeraldConfig {
  const externalUrl = (env.EXTERNAL_URL || `http://localhost:${env.PORT || 8080}`).replace(/\/+$/, '');
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
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    database: { ...parseDatabaseUrl(env.DATABASE_URL, cwd), synchronous: sqliteSynchronous(env.HERALD_SQLITE_SYNCHRONOUS) },
    adminToken,
    externalUrl,
    brand: env.HERALD_BRAND || 'Bytebase',
    botEmail: env.HERALD_BOT_EMAIL || 'support@bytebase.com',
    bodyLimitBytes: integer(env, 'HERALD_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: env.LOG_LEVEL || 'info',
  };
}

export const HERALD_CONFIG = Symbol('HERALD_CONFIG');
