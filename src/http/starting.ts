import type { FastifyInstance } from 'fastify';
import type { StartUpGate } from '../shared/start-up.js';
import { problem, sendProblem } from './problem.js';

/** What answers while Herald starts: the operators' routes (is it alive, how far has it got). */
const ANSWERED_WHILE_STARTING = ['/health/', '/metrics'];

/**
 * Herald listens before its start-up work is done (see StartUpGate): until then every other
 * request is answered 503, saying what the start-up is doing, with a Retry-After.
 */
export function installStartingAnswer(fastify: FastifyInstance, gate: () => StartUpGate | undefined): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const started = gate();
    if (started?.isOpen !== false || ANSWERED_WHILE_STARTING.some((path) => request.url.startsWith(path))) return done();
    const { phase, done: so, total } = started.status;
    const progress = total > 0 ? `: ${so} of ${total}` : '';
    sendProblem(reply, { ...problem(503, `Herald is starting (${phase}${progress}); retry shortly`, 'urn:herald:problem:starting'), retryAfter: 2 });
  });
}
