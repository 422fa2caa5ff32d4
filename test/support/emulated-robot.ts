import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A DingTalk custom robot that keeps its limit as the real one does (open.dingtalk.com, custom
 * robots: "每个机器人每分钟最多发送20条，如果超过20条，会限流10分钟"), by its own clock: a message
 * arriving when `limit` were taken within the last `windowMs` is answered errcode 130101, and for
 * `blockMs` after that every message is. It counts every request it gets.
 */
export class EmulatedRobot {
  /** When each request arrived (by the robot's clock), and whether it was taken. */
  readonly requests: { at: number; taken: boolean; body: any }[] = [];
  private blockedUntil = 0;
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly clock: () => number,
    readonly limit = 20,
    readonly windowMs = 60_000,
    readonly blockMs = 10 * 60_000,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const taken = this.take();
        this.requests.push({ at: this.clock(), taken, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(taken ? { errcode: 0, errmsg: 'ok' } : { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Another sender (outside Herald) uses the robot: it takes `n` messages now, as far as its limit lets it. */
  sendElsewhere(n: number): void {
    for (let i = 0; i < n; i++) this.requests.push({ at: this.clock(), taken: this.take(), body: null });
  }

  private take(): boolean {
    const now = this.clock();
    if (now < this.blockedUntil) return false;
    const recent = this.requests.filter((r) => r.taken && r.at > now - this.windowMs).length;
    if (recent < this.limit) return true;
    this.blockedUntil = now + this.blockMs;
    return false;
  }

  url(token: string): string {
    return `http://127.0.0.1:${this.port}/robot/send?access_token=${token}`;
  }

  /** The most requests that arrived within any `windowMs` (each window ending at a request). */
  busiestWindow(): number {
    return this.requests.reduce((most, r) => Math.max(most, this.requests.filter((o) => o.at > r.at - this.windowMs && o.at <= r.at).length), 0);
  }

  refused(): number {
    return this.requests.filter((r) => !r.taken).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
