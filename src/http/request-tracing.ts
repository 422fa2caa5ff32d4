import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../shared/tracing.js';

/**
 * The server span of every request (installed only when tracing is on), the parent of what the
 * request does: its command's transaction and appends, and through the events' metadata the
 * webhooks' scheduling and attempts. An incoming W3C `traceparent` (and `tracestate`) is
 * honoured: the request joins the caller's trace.
 *
 * Installed before every other hook, so that all of the request's work runs in the span's
 * context. The body arrives in events of the socket, outside the hooks' asynchronous context,
 * and the response ends in one: the span's context is entered again where each such phase
 * starts (preValidation, after the body; onResponse, for the request's log line), which costs
 * less than binding the request's and the reply's event emitters to it.
 *
 * Attributes follow the HTTP server conventions, without the query string, headers or bodies
 * (they may carry tokens and webhook URLs).
 */
export function installRequestTracing(fastify: FastifyInstance): void {
  const traced = new WeakMap<FastifyRequest, { span: Span; active: Context }>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const url = request.url;
    const query = url.indexOf('?');
    const span = tracer().startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': query < 0 ? url : url.slice(0, query), 'url.scheme': 'http', 'herald.request_id': String(request.id) },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    traced.set(request, { span, active });
    context.with(active, done);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    const entry = traced.get(request);
    if (entry) context.with(entry.active, done);
    else done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const entry = traced.get(request);
    if (!entry) return done();
    traced.delete(request);
    const { span, active } = entry;
    const route = request.routeOptions.url;
    if (route) span.updateName(`${request.method} ${route}`);
    if (route) span.setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    // the hooks after this one (the request's log line) name the span
    context.with(active, done);
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    const entry = traced.get(request);
    if (entry) {
      traced.delete(request);
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response' });
      entry.span.end();
    }
    done();
  });
}
