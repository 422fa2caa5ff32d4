/** A webhook receiver for the benchmarks, in its own process: answers at once, reports arrivals over IPC. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const report = process.argv.includes('--report');
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"code":0,"message":""}');
    if (report) {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { issue?: { id: number } };
      process.send?.({ issueId: body.issue?.id, at });
    } else {
      process.send?.(1);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
