import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpTimeouts } from '../config/config.js';
import { problem, rawProblemResponse, sendProblem, toProblem, type Problem } from './problem.js';

/**
 * What happens to a request before any route sees it: how long its client may take to
 * send it, and the answer when Fastify's router or Node's HTTP parser refuses it. Every
 * such answer is a problem+json, from the same `toProblem` as the routes' errors.
 */

/**
 * Answers a connection whose request Node's parser gave up on (bad framing, headers too
 * large, too slow), the way Node itself does: the response written raw, the socket
 * destroyed. Where a response to that request has already begun (its status line is out),
 * the server no longer controls what the client receives: the connection is only closed.
 */
export function answerOnSocket(socket: Socket, found: Problem, error?: Error): void {
  if (socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawProblemResponse(found));
  socket.destroy(error);
}

/** The Fastify server options that bound slow clients and answer low-level errors as problems. */
export function edgeOptions(timeouts: HttpTimeouts) {
  return {
    // Node's own checks: the head within headersTimeout, the whole request within requestTimeout;
    // they are checked every connectionsCheckingInterval (Node's default, 30 s, would let a slow
    // client stay that much longer than configured)
    requestTimeout: timeouts.requestTimeoutMs,
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 4))),
    },
    // Node's HTTP parser refused the bytes ('clientError'): framing, sizes, timeouts
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      if (error.code === 'ECONNRESET') return socket.destroy();
      answerOnSocket(socket, toProblem(error), error);
    },
    // Fastify's router refused the URL (a bad percent-escape, an over-long parameter) before any hook ran
    frameworkErrors(error: Error, _request: FastifyRequest, reply: FastifyReply) {
      sendProblem(reply, toProblem(error));
    },
  };
}

/**
 * The body timeout: from the end of the head (when Fastify first sees the request) to the
 * end of the body. Node bounds the whole request (requestTimeout) but not the body alone.
 * A body still incomplete when it fires is answered 408 on the socket, like Node's own
 * timeouts, and the connection closed.
 */
export function installBodyTimeout(fastify: FastifyInstance, bodyTimeoutMs: number): void {
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    if (!raw.complete) {
      const timer = setTimeout(() => {
        if (!raw.complete) answerOnSocket(raw.socket, problem(408, `the request body was not received within ${bodyTimeoutMs} ms (HERALD_BODY_TIMEOUT_MS)`));
      }, bodyTimeoutMs);
      timer.unref();
      timers.set(request, timer);
    }
    done();
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    clearTimeout(timers.get(request));
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    clearTimeout(timers.get(request));
    done();
  });
}
