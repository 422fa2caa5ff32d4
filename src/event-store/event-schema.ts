import type { DomainEvent } from './event.js';
import type { UpcasterRegistry } from './upcasters.js';

/**
 * What the readers of the log (deciders, projections, the webhook scheduler) rely on in an
 * event's data, written as small checks: a check returns undefined when the value conforms,
 * else what is wrong with it, naming its path. Keys a schema does not name are allowed (a
 * reader ignores them); a named key must hold what the schema says.
 */
export type Check = (value: unknown, path: string) => string | undefined;

/**
 * What each check built by the helpers below accepts, as text (`str({"min":1})`, `object{a: int}…`):
 * the start-up check keys what it has judged by a fingerprint of the schemas (schema-fingerprint.ts),
 * and a function's source alone would not show the limits or lists a helper closed over.
 */
const descriptions = new WeakMap<Check, string>();

const described = (description: string, check: Check): Check => {
  descriptions.set(check, description);
  return check;
};

/**
 * A check written by hand, with what it depends on beyond its own source (a list it reads, a
 * check it calls): say it in `description`, so a change there changes the fingerprint too.
 */
export const custom = (description: string, check: Check): Check => described(`custom(${description}: ${check.toString()})`, check);

/** What a check accepts, as text: a helper's description, else (a bare function) its source. */
export const describeCheck = (check: Check): string => descriptions.get(check) ?? `fn(${check.toString()})`;

const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

export const str = (limits: { min?: number; max?: number } = {}): Check =>
  described(`str(${JSON.stringify(limits)})`, (value, path) => {
    if (typeof value !== 'string') return `${path} must be a string, not ${describe(value)}`;
    if (limits.min !== undefined && value.length < limits.min) return `${path} must be at least ${limits.min} characters`;
    if (limits.max !== undefined && value.length > limits.max) return `${path} must be at most ${limits.max} characters`;
    return undefined;
  });

export const int: Check = described('int', (value, path) => (Number.isSafeInteger(value) ? undefined : `${path} must be a whole number, not ${describe(value)}`));

export const bool: Check = described('bool', (value, path) => (typeof value === 'boolean' ? undefined : `${path} must be true or false, not ${describe(value)}`));

export const oneOf = (values: readonly (string | number)[]): Check =>
  described(`oneOf(${JSON.stringify(values)})`, (value, path) =>
    values.includes(value as string) ? undefined : `${path} must be one of ${values.join(', ')}, not ${JSON.stringify(value) ?? 'undefined'}`,
  );

export const nullable = (check: Check): Check => described(`nullable(${describeCheck(check)})`, (value, path) => (value === null ? undefined : check(value, path)));

export const arrayOf = (item: Check): Check =>
  described(`arrayOf(${describeCheck(item)})`, (value, path) => {
    if (!Array.isArray(value)) return `${path} must be an array, not ${describe(value)}`;
    for (let i = 0; i < value.length; i++) {
      const problem = item(value[i], `${path}.${i}`);
      if (problem) return problem;
    }
    return undefined;
  });

export const recordOf = (item: Check): Check =>
  described(`recordOf(${describeCheck(item)})`, (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object, not ${describe(value)}`;
    for (const [key, child] of Object.entries(value)) {
      const problem = item(child, `${path}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  });

const describeKeys = (checks: Record<string, Check>) => Object.entries(checks).map(([key, check]) => `${key}: ${describeCheck(check)}`).join(', ');

/** An object with these keys (`optional` ones may be absent, never null unless their check allows it). */
export const object = (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  described(`object{${describeKeys(required)}}{optional ${describeKeys(optional)}}`, (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object, not ${describe(value)}`;
    const record = value as Record<string, unknown>;
    for (const [key, check] of Object.entries(required)) {
      if (!(key in record)) return `${path}.${key} is missing`;
      const problem = check(record[key], `${path}.${key}`);
      if (problem) return problem;
    }
    for (const [key, check] of Object.entries(optional)) {
      if (record[key] === undefined) continue;
      const problem = check(record[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  });

/** An object whose shape depends on the string in one of its keys (`field: 'name'` → the `name` variant). */
export const byTag = (tag: string, variants: Record<string, Check>): Check =>
  described(`byTag(${tag}){${describeKeys(variants)}}`, (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object, not ${describe(value)}`;
    const which = (value as Record<string, unknown>)[tag];
    if (typeof which !== 'string' || !Object.hasOwn(variants, which)) return `${path}.${tag} must be one of ${Object.keys(variants).join(', ')}, not ${JSON.stringify(which) ?? 'undefined'}`;
    return variants[which](value, path);
  });

/** Each event type's current schema version and the shape of its data at that version. */
export type EventSchemas = Readonly<Record<string, { schemaVersion: number; data: Check }>>;

/**
 * What is wrong with an event as its readers will see it (upcast to its current version),
 * or undefined when it conforms: an unknown type, a version this code does not know, or
 * data that fails its schema.
 */
export function eventProblem(event: Pick<DomainEvent, 'type' | 'schemaVersion' | 'data'>, schemas: EventSchemas, upcasters?: UpcasterRegistry): string | undefined {
  const current = upcasters ? upcasters.upcast(event) : event;
  const schema = Object.hasOwn(schemas, current.type) ? schemas[current.type] : undefined;
  if (!schema) return `no schema for the event type ${current.type}`;
  if (current.schemaVersion !== schema.schemaVersion) {
    return `schema version ${current.schemaVersion} of ${current.type} is not the one this Herald reads (${schema.schemaVersion})`;
  }
  return schema.data(current.data, 'data');
}

/** Thrown when an event about to be appended (a decider's, an import's) does not conform: a bug, never a user's error. */
export class NonConformingEventError extends Error {
  constructor(type: string, problem: string) {
    super(`refused to append a ${type} event that its readers could not read: ${problem}`);
    this.name = 'NonConformingEventError';
  }
}

export function assertConforms(events: readonly Pick<DomainEvent, 'type' | 'schemaVersion' | 'data'>[], schemas: EventSchemas, upcasters?: UpcasterRegistry): void {
  for (const event of events) {
    const problem = eventProblem(event, schemas, upcasters);
    if (problem) throw new NonConformingEventError(event.type, problem);
  }
}
