import { createRequire } from 'node:module';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import type { Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './config/tracing-config.js';

/**
 * A finished span as it crosses to the export thread: a tuple of plain values (the cheapest
 * shape to copy between threads), the trace state as its W3C string.
 */
type SpanRecord = [
  name: string,
  kind: number,
  traceId: string,
  spanId: string,
  traceFlags: number,
  traceState: string | undefined,
  parentSpanId: string | undefined,
  parentIsRemote: boolean | undefined,
  startTime: [number, number],
  endTime: [number, number],
  attributes: ReadableSpan['attributes'],
  droppedAttributesCount: number,
  statusCode: number,
  statusMessage: string | undefined,
  events: ReadableSpan['events'] | undefined,
  droppedEventsCount: number,
  links: LinkRecord[] | undefined,
  droppedLinksCount: number,
  scopeName: string,
  scopeVersion: string | undefined,
];
type LinkRecord = Omit<Link, 'context'> & { context: Omit<SpanContext, 'traceState'> & { traceState?: string } };

/** What the thread is asked to do (the spans come on a port of their own): export what it holds, and stop when `last`. */
type Request = { flush: number; last: boolean };
/** What it answers: how many spans it has taken (in order), or that a flush is done. */
type Answer = { taken: number } | { flushed: number };

/**
 * The export thread (CommonJS: an eval'd worker has `require`; the modules come by absolute path,
 * so that it runs the same under the built service and under the tests): the official
 * BatchSpanProcessor and OTLP exporter, fed the spans the loop finished, rebuilt as ReadableSpans.
 * The processor reads OTEL_BSP_* (queue and batch sizes, export timeout) as the SDK documents them.
 */
const WORKER = `
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const { createTraceState } = require(workerData.modules.api);
const { BatchSpanProcessor } = require(workerData.modules.sdk);
const { resourceFromAttributes } = require(workerData.modules.resources);
const { OTLPTraceExporter } = require(workerData.modules.exporter);
const exporter = new OTLPTraceExporter({ url: workerData.endpoint, headers: workerData.headers });
const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: workerData.delayMs });
const resource = resourceFromAttributes(workerData.resource);
const scopes = new Map();
const scopeOf = (name, version) => {
  const key = name + '@' + (version || '');
  let scope = scopes.get(key);
  if (!scope) scopes.set(key, (scope = { name, version }));
  return scope;
};
const state = (serialized) => (serialized ? createTraceState(serialized) : undefined);
const hrDuration = (start, end) => {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) { seconds -= 1; nanos += 1e9; }
  return [seconds, nanos];
};
const span = (r) => {
  const context = { traceId: r[2], spanId: r[3], traceFlags: r[4], traceState: state(r[5]) };
  return {
    name: r[0], kind: r[1], spanContext: () => context,
    parentSpanContext: r[6] ? { traceId: r[2], spanId: r[6], traceFlags: r[4], isRemote: r[7] } : undefined,
    startTime: r[8], endTime: r[9], duration: hrDuration(r[8], r[9]), ended: true,
    attributes: r[10], droppedAttributesCount: r[11], status: { code: r[12], message: r[13] },
    events: r[14] || [], droppedEventsCount: r[15],
    links: (r[16] || []).map((l) => ({ ...l, context: { ...l.context, traceState: state(l.context.traceState) } })), droppedLinksCount: r[17],
    resource, instrumentationScope: scopeOf(r[18], r[19]),
  };
};
// the spans' port is read on a timer of the thread's own, never on the loop's message: a message would
// have the thread run at once, on a busy machine in the loop's place
const take = () => {
  let taken = 0;
  for (let received; (received = receiveMessageOnPort(workerData.spans)); taken += received.message.length) {
    for (const r of received.message) processor.onEnd(span(r));
  }
  if (taken > 0) parentPort.postMessage({ taken });
};
setInterval(take, workerData.everyMs);
parentPort.on('message', (request) => {
  take();
  const done = request.last ? processor.shutdown() : processor.forceFlush();
  done.catch(() => undefined).then(() => parentPort.postMessage({ flushed: request.flush }));
});
`;

/**
 * Where the OTLP export runs: on a thread of its own. The span processor on the event loop only
 * turns each finished span into a record and hands the records over in batches; encoding them as
 * OTLP (protobuf or JSON) and POSTing them, the bulk of tracing's cost on the loop, happen on the
 * thread, with the SDK's own BatchSpanProcessor and OTLP exporter.
 *
 * Records wait on the loop at most HANDOVER_MS (or until BATCH of them), then cross in one
 * message, which the thread reads every HANDOVER_MS: a thread woken by each message would run at
 * once, on a busy machine in the loop's place. Should the thread fall behind by more than
 * IN_TRANSIT records, spans are dropped rather than held, as the SDK's processor drops beyond its
 * queue.
 */
export class SpanExportThread implements SpanProcessor {
  static readonly BATCH = 512;
  static readonly HANDOVER_MS = 50;
  static readonly IN_TRANSIT = 8192;
  private readonly logger = new Logger('Tracing');
  private readonly worker: Worker;
  /** Where the records go: read by the thread on its own timer. */
  private readonly spans: MessagePort;
  private records: SpanRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Records sent and not yet taken by the thread. */
  private inTransit = 0;
  private dropped = 0;
  private stopped = false;
  private flushes = 0;
  private readonly waiting = new Map<number, () => void>();

  constructor(config: TracingConfig, resource: Record<string, string>) {
    const resolve = createRequire(import.meta.url).resolve;
    const { port1, port2 } = new MessageChannel();
    this.spans = port1;
    this.spans.unref();
    this.worker = new Worker(WORKER, {
      eval: true,
      transferList: [port2],
      workerData: {
        spans: port2,
        everyMs: SpanExportThread.HANDOVER_MS,
        modules: {
          api: resolve('@opentelemetry/api'),
          sdk: resolve('@opentelemetry/sdk-trace-base'),
          resources: resolve('@opentelemetry/resources'),
          exporter: resolve(config.protocol === 'http/json' ? '@opentelemetry/exporter-trace-otlp-http' : '@opentelemetry/exporter-trace-otlp-proto'),
        },
        endpoint: config.endpoint,
        headers: config.headers,
        delayMs: config.exportDelayMs,
        resource,
      },
    });
    // a background helper: it keeps no process alive (a flush refs it while it waits)
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => this.heard(answer));
    this.worker.on('error', (error) => this.lost(error.message));
    this.worker.on('exit', (code) => this.lost(`exit code ${code}`));
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    if (this.stopped || (context.traceFlags & 1) === 0) return;
    if (this.inTransit + this.records.length >= SpanExportThread.IN_TRANSIT) {
      if (this.dropped++ === 0) this.logger.warn('the trace export thread is behind: finished spans are being dropped');
      return;
    }
    const parent = span.parentSpanContext;
    this.records.push([
      span.name,
      span.kind,
      context.traceId,
      context.spanId,
      context.traceFlags,
      context.traceState?.serialize(),
      parent?.spanId,
      parent?.isRemote,
      span.startTime,
      span.endTime,
      span.attributes,
      span.droppedAttributesCount,
      span.status.code,
      span.status.message,
      span.events.length > 0 ? span.events : undefined,
      span.droppedEventsCount,
      span.links.length > 0 ? span.links.map(linkRecord) : undefined,
      span.droppedLinksCount,
      span.instrumentationScope.name,
      span.instrumentationScope.version,
    ]);
    if (this.records.length >= SpanExportThread.BATCH) this.handOver();
    else this.timer ??= setTimeout(() => this.handOver(), SpanExportThread.HANDOVER_MS).unref();
  }

  forceFlush(): Promise<void> {
    return this.flush(false);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.flush(true);
    this.stopped = true;
    await this.worker.terminate();
  }

  private handOver(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.records.length === 0 || this.stopped) return;
    this.inTransit += this.records.length;
    this.spans.postMessage(this.records);
    this.records = [];
  }

  /** Hands over what waits, then has the thread export everything it holds. */
  private flush(last: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.handOver();
    const id = ++this.flushes;
    this.worker.ref();
    return new Promise<void>((resolve) => {
      this.waiting.set(id, () => {
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.worker.unref();
        resolve();
      });
      this.worker.postMessage({ flush: id, last } satisfies Request);
    });
  }

  private heard(answer: Answer): void {
    if ('taken' in answer) {
      this.inTransit -= answer.taken;
      if (this.dropped > 0 && this.inTransit === 0) {
        this.logger.warn(`the trace export thread caught up: ${this.dropped} finished spans were dropped`);
        this.dropped = 0;
      }
    } else this.waiting.get(answer.flushed)?.();
  }

  /** The thread failed: nothing more is exported (the service goes on untraced). */
  private lost(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.logger.warn(`the trace export thread stopped (${reason}): no more spans are exported`);
    for (const done of [...this.waiting.values()]) done();
  }
}

const linkRecord = (link: Link): LinkRecord => ({ ...link, context: { ...link.context, traceState: link.context.traceState?.serialize() } });
