import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { DomainError, type DomainErrorKind, type FieldError } from './errors.js';

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

/** Thrown by the validation pipe: carries one entry per offending field. */
export class ValidationFailed extends HttpException {
  constructor(readonly errors: FieldError[]) {
    super({ message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors }, 400);
  }
}

export function toProblem(error: unknown): Problem {
  if (error instanceof DomainError) {
    const status = STATUS[error.kind];
    return { type: `urn:herald:problem:${error.kind}`, title: TITLES[status], status, detail: error.message, ...(error.errors ? { errors: error.errors } : {}) };
  }
  if (error instanceof ValidationFailed) {
    return { type: 'urn:herald:problem:invalid', title: TITLES[400], status: 400, detail: (error.getResponse() as { message: string }).message, errors: error.errors };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? error.message);
    return { type: `urn:herald:problem:http-${status}`, title: TITLES[status] ?? 'Error', status, detail };
  }
  // errors raised by Fastify before a route runs (body too large, bad JSON, bad content type)
  const fastify = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const status = fastify.statusCode;
    const detail = fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'the request body is larger than the limit' : (fastify.message ?? 'bad request');
    return { type: `urn:herald:problem:http-${status}`, title: TITLES[status] ?? 'Error', status, detail };
  }
  return { type: 'urn:herald:problem:internal', title: TITLES[500], status: 500, detail: 'an unexpected error occurred; it has been logged' };
}

/** Every error leaves as application/problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const problem = toProblem(error);
    const reply = host.switchToHttp().getResponse();
    const request = host.switchToHttp().getRequest();
    if (problem.status >= 500) {
      this.logger.error({ err: error, method: request?.method, url: request?.url }, 'request failed');
    }
    reply.status(problem.status).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(problem));
  }
}
