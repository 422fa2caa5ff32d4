import type { UpcasterRegistry } from '../event-store/upcasters.js';
import { IssueFieldUpdated } from './issue.events.js';

interface FieldUpdatedV1 {
  field: string;
  from: unknown;
  to: unknown;
}

/**
 * issue.field-updated 1 → 2. Version 1 could hold `"to": null` for a name or description
 * (the API let `{"name": null}` through; the null rule refuses it now), which broke the
 * issue's documented shape and the webhook scheduler. Such an event meant "no value", and
 * reads so now: a description set to null is set to '' (what an issue without one has); a
 * name set to null keeps the name it had (an issue always has a name); a null `from`, left
 * by such an earlier change, reads as ''. assigneeId changes (null: unassigned) are as they were.
 */
export function upcastFieldUpdatedV1<D extends FieldUpdatedV1>(data: D): D {
  if (data.field !== 'name' && data.field !== 'description') return data;
  const from = data.from ?? '';
  const to = data.to ?? (data.field === 'name' ? from : '');
  return { ...data, from, to };
}

export function registerIssueUpcasters(registry: UpcasterRegistry): UpcasterRegistry {
  return registry.register(IssueFieldUpdated, 1, upcastFieldUpdatedV1);
}
