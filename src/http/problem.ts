import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { STORAGE_UNAVAILABLE_PROBLEM, StorageUnavailableError, storageFault } from '../database/storage-errors.js';
import type { Problem as ProblemBody } from '../contract/problem.js';
import { DomainError, type DomainErrorKind, type FieldError } from '../shared/errors.js';

/** RFC 9457 problem details: the body of every error Herald answers (contract/problem.ts), and how long to wait. */
export interface Problem extends ProblemBody {
  /** Sent as the Retry-After header (seconds), not in the body. */
  retryAfter?: number;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Thrown by the validation pipe and the body policy: carries one entry per offending field. */
export class ValidationFailed extends HttpException {
  constructor(readonly errors: FieldError[]) {
    super({ message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors }, 400);
  }
}

/** An error of the request itself (its media type, its framing, its size) with a status and a message for the client. */
export class RequestRefused extends HttpException {
  constructor(status: number, detail: string) {
    super(detail, status);
  }
}

/**
 * One family of errors and the problem each is; undefined for an error not of its family.
 * Every error Herald answers goes through `toProblem`, whichever layer caught it (the Nest
 * filter, Fastify's router and body parser, Node's HTTP parser): a new family of errors
 * is one more mapper in PROBLEM_MAPPERS.
 */
export type ProblemMapper = (error: unknown) => Problem | undefined;

const KIND_STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
};

export function problem(status: number, detail: string, type = `urn:herald:problem:http-${status}`, errors?: FieldError[]): Problem {
  return { type, title: STATUS_CODES[status] ?? 'Error', status, detail, ...(errors ? { errors } : {}) };
}

const domainErrors: ProblemMapper = (error) => {
  if (!(error instanceof DomainError)) return undefined;
  return problem(KIND_STATUS[error.kind], error.message, `urn:herald:problem:${error.kind}`, error.errors);
};

/**
 * Storage that cannot serve now (a full disk, a lost database server): 503 with
 * Retry-After, never a 500. The command was not applied (its transaction rolled back),
 * unless the connection was lost with the COMMIT on its way, or the fsync after it failed.
 */
const storageErrors: ProblemMapper = (error) => {
  const fault = storageFault(error);
  if (!fault) return undefined;
  const unknown = error instanceof StorageUnavailableError && error.outcomeUnknown;
  // PostgreSQL: the connection lost with the COMMIT on its way; SQLite: the WAL's fsync after the COMMIT failed
  const how = fault.code.startsWith('WAL_SYNC_') ? 'the change was committed but could not be synced to disk' : 'the connection was lost while the change was being committed';
  const outcome = unknown ? `${how}, so it may have been applied: read the resource before you retry (a retry with If-Match is safe)` : 'nothing was changed; retry later';
  return { ...problem(503, `storage unavailable: ${fault.detail}; ${outcome}`, STORAGE_UNAVAILABLE_PROBLEM), retryAfter: 1 };
};

const validationErrors: ProblemMapper = (error) => {
  if (!(error instanceof ValidationFailed)) return undefined;
  return problem(400, (error.getResponse() as { message: string }).message, 'urn:herald:problem:invalid', error.errors);
};

/**
 * What Fastify's own errors mean to a client (its router, its body reading), by code:
 * worded for the caller, never echoing the request (a path or body may carry a token).
 */
const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is malformed (a percent-escape that is not valid UTF-8, such as %ZZ)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is longer than 100 characters',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is larger than the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the body must be JSON, sent as content-type application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty but content-type says application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the body is not as long as its Content-Length says',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
};

function fastifyCode(error: unknown): { code?: string; statusCode?: number; message?: string } | undefined {
  // Nest wraps Fastify's 4xx errors in an HttpException whose cause is the original
  const e = error instanceof HttpException && error.cause ? error.cause : error;
  return typeof e === 'object' && e !== null ? (e as { code?: string; statusCode?: number; message?: string }) : undefined;
}

const fastifyErrors: ProblemMapper = (error) => {
  const e = fastifyCode(error);
  if (!e || typeof e.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return undefined;
  // a JSON syntax error's message quotes the body, which may hold a credential
  const detail = (e.code && FASTIFY_DETAILS[e.code]) ?? (e instanceof SyntaxError ? 'the body is not valid JSON' : (e.message ?? 'bad request'));
  return problem(e.statusCode, detail);
};

const httpExceptions: ProblemMapper = (error) => {
  if (!(error instanceof HttpException)) return undefined;
  const status = error.getStatus();
  const body = error.getResponse();
  const detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? error.message);
  return problem(status, detail);
};

/**
 * Node's HTTP parser refusing the bytes of a request ('clientError'): llhttp's codes, with
 * its own reason (a fixed text such as "Invalid character in chunk size").
 */
const parserErrors: ProblemMapper = (error) => {
  const e = error as { code?: unknown; reason?: unknown } | null;
  if (typeof e?.code !== 'string') return undefined;
  if (e.code === 'HPE_HEADER_OVERFLOW') return problem(431, 'the request line and headers together are larger than 16 KiB');
  if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') return problem(408, 'the request was not received in time (see HERALD_HEADERS_TIMEOUT_MS and HERALD_REQUEST_TIMEOUT_MS)');
  if (!e.code.startsWith('HPE_')) return undefined;
  const reason = typeof e.reason === 'string' && e.reason ? `: ${e.reason}` : '';
  return problem(400, `the request is not well-formed HTTP/1.1${reason}`);
};

/** In order: the first that knows the error answers. */
export const PROBLEM_MAPPERS: readonly ProblemMapper[] = [domainErrors, validationErrors, storageErrors, fastifyErrors, httpExceptions, parserErrors];

export function toProblem(error: unknown): Problem {
  for (const map of PROBLEM_MAPPERS) {
    const found = map(error);
    if (found) return found;
  }
  return problem(500, 'an unexpected error occurred; it has been logged', 'urn:herald:problem:internal');
}

interface ProblemReply {
  status(code: number): ProblemReply;
  header(name: string, value: string): ProblemReply;
  send(body: string): unknown;
}

/** Answers a Fastify reply with the problem. */
export function sendProblem(reply: ProblemReply, found: Problem): void {
  const { retryAfter, ...body } = found;
  reply.status(found.status).header('content-type', PROBLEM_CONTENT_TYPE);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  reply.send(JSON.stringify(body));
}

/** The whole HTTP response for a connection whose request Node's parser refused: written raw on the socket, then closed. */
export function rawProblemResponse(found: Problem): string {
  const body = JSON.stringify(found);
  return (
    `HTTP/1.1 ${found.status} ${found.title}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`
  );
}
