import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as PinoLogger } from 'pino';
import { traceFields } from './tracing.js';

/** The process's pino logger (JSON lines; pretty in a terminal during development). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export function createRootLogger(level: string, stream?: NodeJS.WritableStream): PinoLogger {
  const options = {
    level,
    // a safety net: no line Herald writes carries request headers, but none may ever leak these
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[redacted]' },
    // a line written inside a span names it (trace_id, span_id): logs and traces meet in a log search
    mixin: traceFields,
  };
  const pretty = !stream && process.stdout.isTTY === true && process.env.NODE_ENV !== 'production';
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { singleLine: true } } });
  return pino(options, stream ?? process.stdout);
}

/**
 * The framework's start-up chatter (every module loaded, every route mapped: some sixty
 * lines) is written at debug level, so that what `npm start` prints about where Herald
 * listens stays on the first screen. LOG_LEVEL=debug shows them again.
 */
const START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * NestJS's LoggerService over pino: `logger.log(message, context)` and
 * `logger.warn({ field }, message)` shapes, as Nest's own Logger calls it, become
 * `{ context, ...fields, msg }` lines; an Error becomes `err`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest passes the context last
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      rest = params.slice(0, -1);
    }
    if (level === 'info' && START_UP_CONTEXTS.has(fields.context as string)) level = 'debug';
    if (!this.pino.isLevelEnabled(level)) return;
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, ...(rest as []));
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message }, ...(rest as []));
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's exception handlers call error(message, stack, context)
      const err = new Error(String(message));
      err.stack = rest[0];
      this.pino.error({ ...fields, err });
    } else {
      this.pino[level](fields, String(message), ...(rest as []));
    }
  }
}
