/** A webhook receiver for the benchmarks, in its own process: answers at once, reports each arrival's webhook-id over IPC. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"code":0,"message":""}');
    // the id, not a count: a delivery sent twice arrives twice under one id, and must not make up for one not sent
    process.send?.({ webhookId: String(req.headers['webhook-id'] ?? '') });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
