import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A webhook receiver on 127.0.0.1 that records every request and answers as told. */
export class Receiver {
  readonly received: Received[] = [];
  /** Answers in order; the last one repeats. */
  replies: Reply[] = [{ status: 200, body: '{"code":0,"message":""}', headers: { 'content-type': 'application/json' } }];
  private server: Server | null = null;
  port = 0;
  /** Answer after this long (Infinity: never answer). */
  delayMs = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        this.received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json });
        const reply = this.replies.length > 1 ? this.replies.shift()! : this.replies[0];
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? '');
        };
        if (this.delayMs === 0) send();
        else if (Number.isFinite(this.delayMs)) setTimeout(send, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  answer(...replies: Reply[]): void {
    this.replies = replies;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Lets local receivers stand in for every provider's host. */
export const LOCAL_WEBHOOK_ENV = {
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  WEBHOOK_EXTRA_HOSTS: '127.0.0.1',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_TIMEOUT_MS: '2000',
  HERALD_BACKGROUND_WORKERS: 'false',
};
