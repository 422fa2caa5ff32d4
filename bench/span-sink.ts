/**
 * A stand-in for an OpenTelemetry Collector, in its own process: takes OTLP/HTTP protobuf exports, counts their spans
 * (walking ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span, nothing decoded further), answers at once.
 * Tells its port, then the count whenever asked.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let spans = 0;

/** The length-delimited fields numbered `no` of a protobuf message. */
function* messages(buf: Buffer, no: number): Generator<Buffer> {
  let i = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buf[i++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else {
      const length = varint();
      if (key >>> 3 === no) yield buf.subarray(i, i + length);
      i += length;
    }
  }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    for (const resourceSpans of messages(Buffer.concat(chunks), 1)) for (const scopeSpans of messages(resourceSpans, 2)) for (const _ of messages(scopeSpans, 2)) spans++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', () => process.send?.({ spans }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
