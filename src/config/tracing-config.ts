import { ConfigError } from './config-error.js';

/**
 * OpenTelemetry tracing, read from the standard OTEL_* variables. Off (null) unless an OTLP
 * endpoint is named (or OTEL_TRACES_EXPORTER=otlp asks for the default one): with none set,
 * no SDK is loaded at all. Read here rather than left to the SDK so that a wrong value stops
 * the start with one message, like every other variable, and so that the environment handed
 * to loadConfig (not only process.env) is the one that counts.
 */
export interface TracingConfig {
  /** Where spans are POSTed: the traces endpoint itself (…/v1/traces). */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Sent with every export (a collector's API key, say): never logged. */
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, besides service.name and service.version. */
  resourceAttributes: Record<string, string>;
  sampler: { name: Sampler; ratio: number };
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be exported in a batch. */
  exportDelayMs: number;
}

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type Sampler = (typeof SAMPLERS)[number];

const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function loadTracingConfig(env: NodeJS.ProcessEnv): TracingConfig | null {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return null;
  const exporter = (env.OTEL_TRACES_EXPORTER || '').trim().toLowerCase();
  if (exporter !== '' && exporter !== 'otlp' && exporter !== 'none') throw new ConfigError('OTEL_TRACES_EXPORTER', `must be otlp or none (got "${exporter}")`);
  if (exporter === 'none') return null;
  const endpoint = tracesEndpoint(env, exporter === 'otlp');
  if (endpoint === null) return null;
  return {
    endpoint,
    protocol: protocol(env),
    headers: keyValues(env, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS', false),
    serviceName: env.OTEL_SERVICE_NAME || 'herald',
    resourceAttributes: keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES', true),
    sampler: sampler(env),
    exportDelayMs: exportDelay(env),
  };
}

/** The traces endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
function tracesEndpoint(env: NodeJS.ProcessEnv, required: boolean): string | null {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base && !required) return null;
  const name = traces ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = traces || `${(base || DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // never repeated: it may carry credentials
    throw new ConfigError(name, 'must be an absolute http:// or https:// URL, e.g. http://otel-collector:4318');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL (got scheme "${url.protocol.replace(/:$/, '')}": Herald exports OTLP over HTTP only)`);
  }
  return raw;
}

function protocol(env: NodeJS.ProcessEnv): TracingConfig['protocol'] {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = (env[name] || 'http/protobuf').trim();
  if (value === 'http/protobuf' || value === 'http/json') return value;
  throw new ConfigError(name, `must be http/protobuf or http/json (got "${value}"${value === 'grpc' ? ': Herald exports OTLP over HTTP only' : ''})`);
}

/**
 * `key1=value1,key2=value2`, each part percent-decoded (the W3C Baggage form the OTEL_* lists use).
 * Header values are never repeated in an error: they may be credentials.
 */
function keyValues(env: NodeJS.ProcessEnv, name: string, showValues: boolean): Record<string, string> {
  const raw = env[name] ?? '';
  const pairs: Record<string, string> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const shown = showValues ? ` (got "${part}")` : '';
    if (eq <= 0) throw new ConfigError(name, `must be comma-separated key=value pairs${shown}`);
    try {
      pairs[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `must be percent-encoded where it is not plain text${shown}`);
    }
  }
  return pairs;
}

function sampler(env: NodeJS.ProcessEnv): TracingConfig['sampler'] {
  const name = (env.OTEL_TRACES_SAMPLER || 'parentbased_always_on').trim().toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(name)) throw new ConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')} (got "${name}")`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = arg === undefined || arg === '' ? 1 : Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1 (got "${arg}")`);
  return { name: name as Sampler, ratio };
}

function exportDelay(env: NodeJS.ProcessEnv): number {
  const raw = env.OTEL_BSP_SCHEDULE_DELAY;
  if (raw === undefined || raw === '') return 5000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 600_000) throw new ConfigError('OTEL_BSP_SCHEDULE_DELAY', `must be a whole number of milliseconds from 1 to 600000 (got "${raw}")`);
  return value;
}
