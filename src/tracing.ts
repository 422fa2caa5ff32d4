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
 * OTLP/HTTP by the SDK's processor and exporter on a thread of their own (span-export-thread.ts), W3C Trace Context as the propagation format, AsyncLocalStorage carrying the
 * active span. One per process: the API's globals hold it.
 *
 * Why not @opentelemetry/sdk-node: it brings every instrumentation's plumbing (and reads its
 * configuration from process.env alone); Herald makes its own spans (HTTP edge, transactions,
 * appends, scheduling, attempts: see the README) and reads OTEL_* with the rest of its configuration.
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes }, sdk, { SpanExportThread }] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('./span-export-thread.js'),
  ]);
  const ratio = new sdk.TraceIdRatioBasedSampler(config.sampler.ratio);
  const samplers: Record<TracingConfig['sampler']['name'], () => Sampler> = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  };
  const resource = { ...config.resourceAttributes, 'service.name': config.serviceName, 'service.version': HERALD_VERSION };
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    sampler: samplers[config.sampler.name](),
    // batched and exported (encoded, POSTed) on a thread of its own: the loop only hands finished spans over
    spanProcessors: [new SpanExportThread(config, resource)],
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
