import type { UpcasterRegistry } from './upcasters.js';

/**
 * Every upcaster of the log, in one place. When an event's shape changes, bump its
 * schemaVersion where it is decided and register the step from the old version here.
 */
export function registerUpcasters(registry: UpcasterRegistry): UpcasterRegistry {
  return registry;
}
