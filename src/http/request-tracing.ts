import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../shared/tracing.js';

/**
 * The server span of every request (installed only when tracing is on), the parent of what the
 * request does: its command's transaction and appends, and through the events' metadata the
 * webhooks' scheduling and attempts. An incoming W3C `traceparent` (and `tracestate`) is
 * honoured: the request joins the caller's trace.
 *
 * Installed before every other hook, so that all of the request's work runs in the span's
 * context; the request's and the reply's event emitters are bound to it too, since the body
 * arrives in events of the socket, outside the hook's asynchronous context.
 *
 * Attributes follow the HTTP server conventions, without the query string, headers or bodies
 * (they may carry tokens and webhook URLs).
 */
export function installRequestTracing(fastify: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer().startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?')[0], 'url.scheme': 'http', 'herald.request_id': String(request.id) },
      },
      parent,
    );
    spans.set(request, span);
    const active = trace.setSpan(parent, span);
    context.bind(active, request.raw);
    context.bind(active, reply.raw);
    context.with(active, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      const route = request.routeOptions.url;
      if (route) span.updateName(`${request.method} ${route}`);
      span.setAttributes({ ...(route ? { 'http.route': route } : {}), 'http.response.status_code': reply.statusCode });
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    if (span) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response' });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
