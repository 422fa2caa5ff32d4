import { createHash } from 'node:crypto';
import { describeCheck, type EventSchemas } from './event-schema.js';
import type { UpcasterRegistry } from './upcasters.js';

/**
 * What the start-up check judges the log by, as one hash: every event type's schema version
 * and schema, every upcaster (its source), and READ_MODELS_VERSION (raised, by the rule of
 * src/domain.ts, whenever old events come to read differently: a change in a helper an
 * upcaster calls shows there, not in the upcaster's own source). The check remembers how far
 * it has judged the log under one fingerprint; a release that changes any of these judges
 * the whole log again.
 */
export function logFingerprint(schemas: EventSchemas, upcasters: UpcasterRegistry, readModelsVersion: number): string {
  const hash = createHash('sha256');
  for (const type of Object.keys(schemas).sort()) hash.update(`schema ${type}@${schemas[type].schemaVersion}: ${describeCheck(schemas[type].data)}\n`);
  for (const step of upcasters.describe()) hash.update(`upcaster ${step}\n`);
  hash.update(`read models ${readModelsVersion}\n`);
  return hash.digest('hex').slice(0, 32);
}
