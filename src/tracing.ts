import { context, propagation, trace } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './config/tracing-config.js';
import { HERALD_VERSION } from './version.js';

/** The running OpenTelemetry SDK: stopping it exports what is still buffered. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK (only called when tracing is configured: otherwise none of its
 * modules is even loaded, and the API's calls stay no-ops): spans batched and exported over
 * OTLP/HTTP, W3C Trace Context as the propagation format, AsyncLocalStorage carrying the
 * active span. One per process: the API's globals hold it.
 *
 * Why not @opentelemetry/sdk-node: it brings every instrumentation's plumbing (and reads its
 * configuration from process.env alone); Herald makes its own spans (HTTP edge, transactions,
 * appends, scheduling, attempts: see the README) and reads OTEL_* with the rest of its configuration.
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes }, sdk, exporters] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    config.protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const exporter = new exporters.OTLPTraceExporter({ url: config.endpoint, headers: config.headers });
  const ratio = new sdk.TraceIdRatioBasedSampler(config.sampler.ratio);
  const samplers: Record<TracingConfig['sampler']['name'], () => Sampler> = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  };
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, 'service.version': HERALD_VERSION }),
    sampler: samplers[config.sampler.name](),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportDelayMs })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      // what is buffered goes out first; an unreachable collector costs at most the exporter's timeout
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
