import { StringDecoder } from 'node:string_decoder';
import type { HttpErrorKind } from './http-client.js';

// What the webhook HTTP client makes of a response and of an error: headers, a capped body, the kind of failure, text without the URL's secrets.

/** The destination resolved to (or is) a refused address. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_HERALD_BLOCKED_ADDRESS';
  override readonly name = 'BlockedAddressError';
}

/** The host name could not be resolved. */
export class DnsResolutionError extends Error {
  readonly code = 'ERR_HERALD_DNS';
  override readonly name = 'DnsResolutionError';
}

/** Past the kept part, this much more is read and dropped (keeping the connection reusable); then the connection is cut. */
const MAX_DISCARDED_BYTES = 1024 * 1024;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

export function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(', ') : value;
    headers[key] = key in headers ? `${headers[key]}, ${joined}` : joined;
  }
  return headers;
}

/**
 * Reads the body keeping the first `cap` bytes (decoded as UTF-8, never splitting a character);
 * the rest is read and dropped, and past MAX_DISCARDED_BYTES the connection is cut.
 */
export function readCapped(body: NodeJS.ReadableStream & { destroy(error?: Error): unknown }, cap: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let kept = 0;
    let discarded = 0;
    let settled = false;
    const done = (truncated: boolean) => {
      if (settled) return;
      settled = true;
      resolve(truncated ? text : text + decoder.end());
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = cap - kept;
      if (room > 0) {
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        kept += part.length;
        text += decoder.write(part);
      }
      discarded += Math.max(0, chunk.length - Math.max(room, 0));
      if (discarded > MAX_DISCARDED_BYTES) {
        done(true);
        body.destroy();
      }
    });
    body.on('end', () => done(discarded > 0));
    body.on('close', () => done(discarded > 0));
    body.on('error', (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

export function classify(err: unknown): { error: HttpErrorKind; detail: string } {
  if (err instanceof BlockedAddressError) return { error: 'blocked address', detail: err.message };
  if (err instanceof DnsResolutionError) return { error: 'dns', detail: err.message };
  const e = (err ?? {}) as { code?: unknown; message?: unknown; library?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
  if (TIMEOUT_CODES.has(code) || e.name === 'TimeoutError') return { error: 'timeout', detail };
  if (code === 'ECONNREFUSED') return { error: 'connection refused', detail };
  if (DNS_CODES.has(code)) return { error: 'dns', detail };
  if (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    TLS_CODES.has(code) ||
    (typeof e.library === 'string' && /ssl/i.test(e.library))
  ) {
    return { error: 'tls', detail };
  }
  return { error: 'network', detail };
}

/** Belt and braces: no error text may carry the URL's path or query (they hold tokens). */
export function scrub(detail: string, url: URL): string {
  const secrets = [url.href, `${url.pathname}${url.search}`, url.search, url.pathname]
    .filter((s) => s.length > 1)
    .sort((a, b) => b.length - a.length);
  let out = detail;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
