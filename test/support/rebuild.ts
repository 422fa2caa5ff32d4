import type { RebuildStatus } from '../../src/event-store/rebuild-record.js';
import { until } from './process-calls.js';
import type { TestApp } from './test-app.js';

/** Rebuilds the read models through the API (it answers 202 at once) and follows it until it ends: resolves with its last status. */
export async function rebuildThroughApi(t: TestApp): Promise<RebuildStatus> {
  const started = (await t.http.post('/api/admin/projections/rebuild').set(t.auth).expect(202)).body as RebuildStatus;
  let status = started;
  await until(async () => {
    status = (await t.http.get('/api/admin/projections/rebuild').set(t.auth).expect(200)).body as RebuildStatus;
    return status.id === started.id && status.state !== 'running';
  }, `the rebuild ${started.id} to end`).catch((error: Error) => Promise.reject(new Error(`${error.message}; its last status: ${JSON.stringify(status)}`)));
  return status;
}
