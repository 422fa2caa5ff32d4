import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FieldError } from '../shared/errors.js';
import { RequestRefused, ValidationFailed } from './problem.js';
import { invalidUtf8Offset } from './utf8.js';

/**
 * No route's body nests deeper than this: an issue's pipeline is the deepest (the body,
 * pipeline, stages, a stage, tasks, a task: 6). Deeper bodies are refused before they are
 * transformed (class-transformer recurses, and 10,000 levels overflow its stack).
 */
export const MAX_JSON_DEPTH = 8;

/** `application/json`, optionally with `charset=utf-8` (any case, quoted or not), and nothing else. */
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;

/**
 * The one body parser of the service. A body is accepted only as a single `Content-Type:
 * application/json` header (optionally `charset=utf-8`: another charset would be read
 * wrongly as UTF-8), its bytes UTF-8 (Node's decoder would turn others into U+FFFD), nested at most MAX_JSON_DEPTH deep, free of prototype-poisoning keys,
 * and with every string well-formed Unicode without NUL (a lone surrogate breaks validators
 * and cannot be stored as UTF-8; PostgreSQL refuses NUL in text). Every other media type is
 * refused with 415 by Fastify, as no parser is registered for it.
 */
export function installBodyPolicy(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  // the bytes, not a string: a decoded string no longer shows which bytes were not UTF-8
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request: FastifyRequest, bytes: string | Buffer, done) => {
    let value: unknown;
    try {
      value = parseBody(request, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, value);
  });
}

/** Keys, escapes and names that make a body worth walking: poisoning keys, and the \u escapes that alone can put a lone surrogate or a NUL into a string decoded from UTF-8. */
const NEEDS_WALK = /__proto__|constructor|\\u/;

function parseBody(request: FastifyRequest, bytes: Buffer): unknown {
  assertSingleJsonContentType(request);
  const offset = invalidUtf8Offset(bytes);
  if (offset >= 0) throw new ValidationFailed([{ field: 'body', message: `must be valid UTF-8 (the first invalid byte is at offset ${offset})` }]);
  const body = bytes.toString('utf8');
  if (body.length === 0) throw new ValidationFailed([{ field: 'body', message: 'must not be empty when Content-Type is application/json' }]);
  if (exceedsDepth(body, MAX_JSON_DEPTH)) throw new ValidationFailed([deepestField(body)]);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new ValidationFailed([unparsable(error as Error)]);
  }
  const bad = NEEDS_WALK.test(body) ? firstBadEntry(value) : undefined;
  if (bad) throw new ValidationFailed([bad]);
  return value;
}

/** Why the body did not parse, without quoting it (V8's messages quote the text, which may hold a credential). */
function unparsable(error: Error): FieldError {
  const at = /at position (\d+)/.exec(error.message);
  return { field: 'body', message: `must be valid JSON${at ? ` (the first error is at character ${at[1]})` : ''}` };
}

function assertSingleJsonContentType(request: FastifyRequest): void {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 12 && raw[i].toLowerCase() === 'content-type') count++;
  // Node keeps the first of two Content-Type headers: a request with two is ambiguous, whatever the first says
  if (count !== 1) throw new RequestRefused(415, 'the request must have exactly one Content-Type header');
  if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? '')) {
    throw new RequestRefused(415, 'the body must be sent as Content-Type: application/json, optionally with charset=utf-8');
  }
}

/** Whether the JSON text opens arrays and objects deeper than max (brackets inside strings do not count). */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const tooDeep = (field: string): FieldError => ({ field, message: `must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep` });

/** The field where a too-deep body first goes past the limit (JSON.parse is not recursive; this walk is not either). */
function deepestField(text: string): FieldError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return tooDeep('body');
  }
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (path.length >= MAX_JSON_DEPTH) return tooDeep(path.join('.'));
    for (const [key, child] of Object.entries(node)) stack.push({ value: child, path: [...path, key] });
  }
  return tooDeep('body');
}

const LONE_SURROGATE_OR_NUL = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/;
const ILL_FORMED = 'must be well-formed Unicode without NUL characters (no lone surrogate such as \\ud800, no \\u0000)';

/**
 * The first entry the policy refuses, with its path: a string (or key) that is not
 * well-formed Unicode or holds a NUL, or a prototype-poisoning key (`__proto__`, or
 * `constructor` holding `prototype`: refused rather than dropped, as Fastify's parser did).
 */
function firstBadEntry(value: unknown): FieldError | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (typeof node === 'string') {
      if (LONE_SURROGATE_OR_NUL.test(node)) return { field: path || 'body', message: ILL_FORMED };
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const field = path ? `${path}.${key}` : key;
        if (LONE_SURROGATE_OR_NUL.test(key)) return { field: path || 'body', message: `holds a key that ${ILL_FORMED.replace('must be', 'is not')}` };
        if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child)) {
          return { field, message: 'is a prototype-poisoning key: refused' };
        }
        stack.push({ value: child, path: field });
      }
    }
  }
  return undefined;
}
