import { jest } from '@jest/globals';
import { EventStore } from '../../src/event-store/event-store.js';
import { issueAggregate } from '../../src/issues/issue.projection.js';
import { StreamStates } from '../../src/webhooks/subscription/stream-states.js';
import { api } from '../support/api.js';
import { useTestApp } from '../support/test-app.js';

/**
 * StreamStates for a reader that skips events of a stream (the send of a replay's deliveries):
 * a kept state that is behind the event is folded on from, reading only the events between,
 * and gives the state a fold from the stream's start gives.
 */
describe('issue states for a reader that skips events', () => {
  const t = useTestApp();

  it('folds on from a kept state that is behind, reading only the events between, to the state a fold from the start gives', async () => {
    const a = api(t);
    const project = await a.createProject('Skips');
    const issue = await a.createIssue(project.id, { name: 'v1' });
    for (let n = 2; n <= 30; n++) await t.http.patch(`/api/issues/${issue.id}`).set(t.auth).send({ name: `v${n}` }).expect(200);
    const store = t.app.get(EventStore);
    const stream = `issue-${issue.id}`;
    const events = await store.readStream(stream);
    const at = (version: number) => events.find((e) => e.version === version)!;

    const skipping = new StreamStates(issueAggregate, store);
    await skipping.step(at(5));
    expect(skipping.versionOf(stream)).toBe(5);
    const reads = jest.spyOn(store, 'readStream');
    const skipped = await skipping.step(at(20));
    expect(reads.mock.calls.map(([id, after]) => [id, after])).toEqual([[stream, 5]]);
    reads.mockRestore();

    const fresh = await new StreamStates(issueAggregate, store).step(at(20));
    expect(skipped).toEqual(fresh);
    expect(skipped.before.name).toBe('v19');
    expect(skipped.after.name).toBe('v20');
    expect(skipping.versionOf(stream)).toBe(20);
  });
});
