import type { FieldError } from '../contract/problem.js';

/**
 * Domain errors are values with a kind; one exception filter maps them to HTTP
 * (application/problem+json). A rule the user broke is never a 500.
 */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed';

/** A field the request got wrong (the API's shape, shared with the console). */
export type { FieldError };

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (message: string, errors?: FieldError[]) => new DomainError('invalid', message, errors);
export const notFound = (what: string, id: number | string) => new DomainError('not-found', `${what} ${id} not found`);
export const conflict = (message: string) => new DomainError('conflict', message);
export const unauthorized = (message = 'a valid bearer token is required') => new DomainError('unauthorized', message);
export const forbidden = (message: string) => new DomainError('forbidden', message);
export const preconditionFailed = (message: string) => new DomainError('precondition-failed', message);

export function raise(error: Error): never {
  throw error;
}
