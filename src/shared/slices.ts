/**
 * Long work (a check of the whole log, a rebuild, a sweep, an import) runs in slices of a few
 * milliseconds and awaits this between them: requests, heartbeats and deliveries queued
 * meanwhile run first. An awaited promise alone would not do: better-sqlite3 answers
 * synchronously, so its promises resolve without ever leaving the loop to others.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
