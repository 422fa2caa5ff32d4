import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A span as an OTLP receiver decodes it (ids in hex, attributes as plain values). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
  resource: Record<string, unknown>;
}

/**
 * A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver: takes POST /v1/traces in
 * http/protobuf or http/json, decodes every span and keeps it (the raw bodies too, for the
 * no-leak checks), and answers as a collector does (an empty ExportTraceServiceResponse).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Every body received, as text (protobuf bodies hold their strings as UTF-8 too). */
  readonly bodies: string[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const json = String(req.headers['content-type']).startsWith('application/json');
        this.bodies.push(body.toString('utf8'));
        this.spans.push(...(json ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  /** OTEL_EXPORTER_OTLP_ENDPOINT for Herald. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---- http/json (OTLP/JSON: ids as hex strings, enums as numbers)

type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] }; kvlistValue?: { values?: JsonKeyValue[] } };
type JsonKeyValue = { key: string; value?: JsonValue };

const jsonValue = (v: JsonValue | undefined): unknown =>
  v === undefined
    ? undefined
    : v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? (v.arrayValue ? (v.arrayValue.values ?? []).map(jsonValue) : v.kvlistValue ? jsonAttributes(v.kvlistValue.values) : undefined);
const jsonAttributes = (kvs: JsonKeyValue[] | undefined) => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

function fromJson(request: any): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs: any) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss: any) =>
      (ss.spans ?? []).map(
        (s: any): ReceivedSpan => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          traceState: s.traceState ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
        }),
      ),
    );
  });
}

// ---- http/protobuf: a small decoder of the wire format, for the messages of opentelemetry-proto's trace service

type Field = { no: number; wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[i++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) out.push({ no, wire, value: buf.subarray(i, (i += 8)) });
    else if (wire === 5) out.push({ no, wire, value: buf.subarray(i, (i += 4)) });
    else if (wire === 2) {
      const length = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, (i += length)) });
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const all = (fs: Field[], no: number) => fs.filter((f) => f.no === no).map((f) => f.value);
const one = (fs: Field[], no: number) => fs.find((f) => f.no === no)?.value;
const bytes = (fs: Field[], no: number) => (one(fs, no) as Buffer | undefined) ?? Buffer.alloc(0);
const text = (fs: Field[], no: number) => bytes(fs, no).toString('utf8');
const num = (fs: Field[], no: number) => Number((one(fs, no) as bigint | undefined) ?? 0n);

function anyValue(buf: Buffer): unknown {
  const f = fields(buf)[0];
  if (!f) return undefined;
  switch (f.no) {
    case 1:
      return (f.value as Buffer).toString('utf8');
    case 2:
      return f.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint));
    case 4:
      return (f.value as Buffer).readDoubleLE(0);
    case 5:
      return all(fields(f.value as Buffer), 1).map((v) => anyValue(v as Buffer));
    case 6:
      return attributes(fields(f.value as Buffer), 1);
    default:
      return (f.value as Buffer).toString('hex');
  }
}

function attributes(fs: Field[], no: number): Record<string, unknown> {
  return Object.fromEntries(all(fs, no).map((kv) => fields(kv as Buffer)).map((kv) => [text(kv, 1), anyValue(bytes(kv, 2))]));
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return all(fields(body), 1).flatMap((rsBuf) => {
    const rs = fields(rsBuf as Buffer);
    const resource = attributes(fields(bytes(rs, 1)), 1);
    return all(rs, 2).flatMap((ssBuf) =>
      all(fields(ssBuf as Buffer), 2).map((spanBuf): ReceivedSpan => {
        const s = fields(spanBuf as Buffer);
        const status = fields(bytes(s, 15));
        return {
          traceId: bytes(s, 1).toString('hex'),
          spanId: bytes(s, 2).toString('hex'),
          traceState: text(s, 3),
          parentSpanId: bytes(s, 4).toString('hex'),
          name: text(s, 5),
          kind: num(s, 6),
          attributes: attributes(s, 9),
          events: all(s, 11).map((e) => fields(e as Buffer)).map((e) => ({ name: text(e, 2), attributes: attributes(e, 3) })),
          status: { code: num(status, 3), message: text(status, 2) },
          resource,
        };
      }),
    );
  });
}
