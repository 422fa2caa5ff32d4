import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request an emulated vendor API received. */
export interface ApiCall {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Route = (call: ApiCall) => ApiAnswer | Promise<ApiAnswer>;

/**
 * The HTTP side of an emulated vendor API on 127.0.0.1: routes by "METHOD /path", every call
 * recorded, and answers that may be replaced for the next calls of a route (a 429, an expired
 * token) or held back until released (a crash between two calls). Each vendor's file
 * (slack-api.ts, …) gives it the routes its documentation describes.
 */
export class ImEmulator {
  readonly calls: ApiCall[] = [];
  private readonly overrides = new Map<string, ApiAnswer[]>();
  private readonly holds = new Map<string, { arrived: () => void; arrivedAt: Promise<void>; release: Promise<void>; resolveRelease: () => void }>();
  private server: Server | null = null;
  port = 0;

  constructor(private readonly routes: Record<string, Route>) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const url = new URL(req.url ?? '/', 'http://x');
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = body ? JSON.parse(body) : undefined;
          } catch {
            json = undefined;
          }
          const call: ApiCall = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, json };
          this.calls.push(call);
          const key = `${call.method} ${call.path}`;
          const hold = this.holds.get(key);
          if (hold) {
            this.holds.delete(key);
            hold.arrived();
            await hold.release;
          }
          const queued = this.overrides.get(key);
          const answer = queued?.length ? queued.shift()! : this.routes[key] ? await this.routes[key](call) : (this.routeOf(call) ?? { status: 404, body: { error: `no route ${key}` } });
          if (res.destroyed) return;
          res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
          res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
        })();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const hold of this.holds.values()) hold.resolveRelease();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** An answer for a path with ids in it (a vendor's own matching); undefined: none. */
  protected routeOf(_call: ApiCall): ApiAnswer | undefined {
    return undefined;
  }

  /** The next calls of `route` ("POST /path") get these answers, in order, before its own. */
  answerNext(route: string, ...answers: ApiAnswer[]): void {
    this.overrides.set(route, [...(this.overrides.get(route) ?? []), ...answers]);
  }

  /** The next call of `route` waits: `arrived` settles when it comes, `release()` lets it be answered. */
  hold(route: string): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let resolveRelease!: () => void;
    const arrivedAt = new Promise<void>((resolve) => (arrived = resolve));
    const release = new Promise<void>((resolve) => (resolveRelease = resolve));
    this.holds.set(route, { arrived, arrivedAt, release, resolveRelease });
    return { arrived: arrivedAt, release: resolveRelease };
  }

  /** The calls of one route. */
  of(route: string): ApiCall[] {
    const [method, path] = route.split(' ');
    return this.calls.filter((c) => c.method === method && c.path === path);
  }
}
