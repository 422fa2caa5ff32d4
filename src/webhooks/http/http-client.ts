/**
 * SSRF guard, part 2, and the one HTTP client of webhook deliveries (see docs: delivery.md).
 *
 * - One undici `Agent` (keep-alive, a few connections per origin) whose connector resolves the
 *   host itself, checks EVERY resolved address with the `AddressPolicy`, and then connects to a
 *   checked IP address: the socket never does a DNS lookup of its own, so nothing can rebind
 *   between the check and the connection. TLS still verifies (and sends SNI for) the host name.
 * - POST only, no redirects (undici's `request` follows none: a 3xx is returned as a response).
 * - One overall deadline of `timeoutMs` for lookup, connect, headers and body.
 * - The response body is kept up to `maxResponseBytes`; the rest is read and thrown away.
 * - Errors never carry the URL's path or query (webhook URLs embed tokens).
 */
import dns from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, buildConnector } from 'undici';
import { AddressPolicy, parseHostAsIp } from './address-policy.js';
import { BlockedAddressError, classify, DnsResolutionError, flattenHeaders, readCapped, scrub } from './http-response.js';

/** `dns.lookup(hostname, { all: true }, callback)`: the resolver, replaceable in tests. */
export type LookupAllFn = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export interface WebhookHttpClientOptions {
  /** Operator-allowed CIDR ranges (see `parseCidrList`). */
  allowedCidrs: string[];
  /** Overall deadline of one request: lookup, connect, TLS, headers and body. */
  timeoutMs: number;
  /** Resolver (defaults to `dns.lookup`). */
  lookup?: LookupAllFn;
  /** Response body bytes kept (default 16 KB). */
  maxResponseBytes?: number;
  /** Connections kept to one origin (default 8): many webhooks of one service share its origin. */
  connectionsPerOrigin?: number;
}

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** POST unless said (an IM app's look-ups may be GETs); a GET sends no body. */
  method?: 'GET' | 'POST';
}

export type HttpErrorKind = 'timeout' | 'dns' | 'connection refused' | 'tls' | 'blocked address' | 'network';

export type HttpOutcome =
  | {
      kind: 'response';
      status: number;
      /** Lower-case names; repeated headers joined with ', '. */
      headers: Record<string, string>;
      /** UTF-8, cut to `maxResponseBytes`. */
      body: string;
      durationMs: number;
    }
  | { kind: 'error'; error: HttpErrorKind; detail: string; durationMs: number };

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024;
const CONNECTIONS_PER_ORIGIN = 8;
const KEEP_ALIVE_MS = 4_000;

/** Codes after which the next resolved address is worth a try (the failure is quick and per address). */
const NEXT_ADDRESS_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']);

type Connector = buildConnector.connector;

export class WebhookHttpClient {
  private readonly policy: AddressPolicy;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly lookup: LookupAllFn;
  private readonly baseConnect: Connector;
  private readonly agent: Agent;

  constructor(options: WebhookHttpClientOptions) {
    if (!(options.timeoutMs > 0)) throw new Error('WebhookHttpClient: timeoutMs must be positive');
    this.policy = new AddressPolicy(options.allowedCidrs);
    this.timeoutMs = options.timeoutMs;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.lookup = options.lookup ?? (dns.lookup as LookupAllFn);
    this.baseConnect = buildConnector({ timeout: options.timeoutMs, keepAlive: true });
    this.agent = new Agent({
      connect: this.connect,
      connections: options.connectionsPerOrigin ?? CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** POSTs one webhook request. Never throws: every failure is an `error` outcome. `signal` abandons it. */
  async send(req: HttpRequest, signal?: AbortSignal): Promise<HttpOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const fail = (error: HttpErrorKind, detail: string): HttpOutcome => ({ kind: 'error', error, detail, durationMs: elapsed() });

    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('network', 'invalid URL'); // never echo it: it may carry a token
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return fail('network', `unsupported URL scheme "${url.protocol}": only http: and https: are allowed`);
    }

    const controller = new AbortController();
    let inBody = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeoutOutcome = () =>
      fail(
        'timeout',
        inBody
          ? `response body not complete within ${this.timeoutMs} ms`
          : `no response within ${this.timeoutMs} ms (lookup, connect and response headers)`,
      );
    // The deadline resolves on its own, whatever undici is doing (a request still waiting for a
    // connection only notices its abort signal once connected). Timers run before a loop turn's
    // I/O: when this process was stalled past the deadline (a long synchronous task), an answer
    // already waiting in the socket is read first (setImmediate runs after the poll phase), so
    // our stall is not counted against the endpoint.
    let late: NodeJS.Immediate | undefined;
    const deadline = new Promise<HttpOutcome>((resolve) => {
      timer = setTimeout(() => {
        late = setImmediate(() => {
          timedOut = true;
          resolve(timeoutOutcome());
          controller.abort(new Error('webhook request timed out'));
        });
      }, this.timeoutMs);
    });
    let abandon: (() => void) | undefined;
    const abandoned = new Promise<HttpOutcome>((resolve) => {
      abandon = () => {
        resolve(fail('network', `abandoned: ${signal?.reason instanceof Error ? signal.reason.message : 'aborted'}`));
        controller.abort(signal?.reason);
      };
      if (signal?.aborted) abandon();
      else signal?.addEventListener('abort', abandon, { once: true });
    });

    const exchange = (async (): Promise<HttpOutcome> => {
      const res = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method ?? 'POST',
        headers: req.headers,
        body: req.method === 'GET' ? null : req.body,
        signal: controller.signal,
      });
      inBody = true;
      const body = await readCapped(res.body, this.maxResponseBytes);
      return { kind: 'response', status: res.statusCode, headers: flattenHeaders(res.headers), body, durationMs: elapsed() };
    })().catch((err: unknown): HttpOutcome => {
      // past the deadline an error is the timeout's (undici's own connect timer may fire first)
      if (timedOut || elapsed() >= this.timeoutMs) return timeoutOutcome();
      const { error, detail } = classify(err);
      return fail(error, scrub(detail, url));
    });

    try {
      return await Promise.race([exchange, deadline, abandoned]);
    } finally {
      clearTimeout(timer);
      clearImmediate(late);
      if (abandon) signal?.removeEventListener('abort', abandon);
    }
  }

  /** Closes the agent (waits for requests in flight). */
  async close(): Promise<void> {
    await this.agent.close();
  }

  // -------------------------------------------------------------------------------------------
  // Connection: resolve, check every address, connect to a checked one.
  // -------------------------------------------------------------------------------------------

  private readonly connect: Connector = (opts, callback) => {
    const hostname = opts.hostname.replace(/^\[(.*)\]$/, '$1');
    this.resolveChecked(hostname).then(
      (addresses) => this.connectTo(opts, hostname, addresses, 0, callback),
      (err: Error) => callback(err, null),
    );
  };

  /**
   * The host's addresses, all of them allowed. One refused address refuses the host ("any", not
   * "all"): a public webhook host has no business resolving to 169.254.169.254 or 10.0.0.5 as
   * well; a mixed answer is the classic rebinding trick or a misconfiguration, and refusing it
   * makes the outcome independent of which address would have been tried.
   */
  private async resolveChecked(hostname: string): Promise<string[]> {
    const literal = parseHostAsIp(hostname);
    if (literal !== null) {
      const verdict = this.policy.check(literal);
      if (!verdict.allowed) throw new BlockedAddressError(`refused address: ${verdict.reason}`);
      return [literal];
    }
    const addresses = await this.lookupAll(hostname);
    if (addresses.length === 0) throw new DnsResolutionError(`${hostname} has no address`);
    for (const { address } of addresses) {
      const verdict = this.policy.check(address);
      if (!verdict.allowed) throw new BlockedAddressError(`${hostname} resolves to a refused address: ${verdict.reason}`);
    }
    return addresses.map((a) => a.address);
  }

  private lookupAll(hostname: string): Promise<dns.LookupAddress[]> {
    return new Promise((resolve, reject) => {
      // getaddrinfo cannot be cancelled; do not let a hung one hold the connection slot forever.
      const timer = setTimeout(
        () => reject(new DnsResolutionError(`lookup of ${hostname} not answered within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      try {
        this.lookup(hostname, { all: true }, (err, addresses) => {
          clearTimeout(timer);
          if (err) reject(new DnsResolutionError(`cannot resolve ${hostname}: ${err.code ?? err.message}`));
          else resolve(addresses ?? []);
        });
      } catch (err) {
        clearTimeout(timer);
        reject(new DnsResolutionError(`cannot resolve ${hostname}: ${(err as Error).message}`));
      }
    });
  }

  /** Connects to addresses[i] (an IP: no lookup), falling back to the next one on a quick per-address failure. */
  private connectTo(
    opts: buildConnector.Options,
    hostname: string,
    addresses: string[],
    i: number,
    callback: buildConnector.Callback,
  ): void {
    this.baseConnect(
      {
        ...opts,
        hostname: addresses[i]!,
        // TLS: SNI and certificate check against the name, not the pinned address.
        servername: opts.servername || (isIP(hostname) ? undefined : hostname),
      },
      (...args: [null, Socket] | [Error, null]) => {
        const [err] = args;
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (err && code && NEXT_ADDRESS_CODES.has(code) && i + 1 < addresses.length) {
          this.connectTo(opts, hostname, addresses, i + 1, callback);
          return;
        }
        callback(...args);
      },
    );
  }
}
