import { eventProblem } from '../../src/event-store/event-schema.js';
import { EVENT_SCHEMAS, registerUpcasters } from '../../src/domain.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';

const upcasters = registerUpcasters(new UpcasterRegistry());
const read = (type: string, schemaVersion: number, data: unknown) => upcasters.upcast({ type, schemaVersion, data });
const conforms = (event: { type: string; schemaVersion: number; data: unknown }) => eventProblem(event, EVENT_SCHEMAS);
const ids = { issueId: 2, projectId: 1 };

describe('the nulls that version 1 let into the log, as they read now', () => {
  it('a name set to null keeps the name it had; a description set to null is emptied', () => {
    const name = read('issue.field-updated', 1, { ...ids, field: 'name', from: 'Add index', to: null });
    expect(name).toEqual({ type: 'issue.field-updated', schemaVersion: 2, data: { ...ids, field: 'name', from: 'Add index', to: 'Add index' } });
    const description = read('issue.field-updated', 1, { ...ids, field: 'description', from: 'CREATE INDEX', to: null });
    expect(description.data).toEqual({ ...ids, field: 'description', from: 'CREATE INDEX', to: '' });
    // the change after a null one recorded null as where it came from
    expect(read('issue.field-updated', 1, { ...ids, field: 'name', from: null, to: 'Renamed' }).data).toEqual({ ...ids, field: 'name', from: '', to: 'Renamed' });
    expect([name, description].map(conforms)).toEqual([undefined, undefined]);
  });

  it('leaves assignee changes (null: unassigned) and well-formed changes as they were', () => {
    expect(read('issue.field-updated', 1, { ...ids, field: 'assigneeId', from: 5, to: null }).data).toEqual({ ...ids, field: 'assigneeId', from: 5, to: null });
    expect(read('issue.field-updated', 1, { ...ids, field: 'name', from: 'a', to: 'b' }).data).toEqual({ ...ids, field: 'name', from: 'a', to: 'b' });
  });

  it('a webhook change drops the nulls that meant no value, keeps a removed secret, and masks a new URL by today’s rule', () => {
    const updated = read('webhook.updated', 1, {
      projectId: 1,
      webhookId: 3,
      changes: { name: null, active: null, ordered: null, activityTypes: null, signingSecret: null, previousSigningSecret: null, urlMasked: 'http://host.example/SEGTOKEN/***', url: 'v1:sealed', urlDigest: 'h1:k:d' },
    });
    expect(updated).toEqual({
      type: 'webhook.updated',
      schemaVersion: 2,
      data: { projectId: 1, webhookId: 3, changes: { signingSecret: null, previousSigningSecret: null, urlMasked: 'http://host.example/***', url: 'v1:sealed', urlDigest: 'h1:k:d' } },
    });
    expect(conforms(updated)).toBeUndefined();
  });

  it('a webhook created under the old mask reads with today’s, by its provider’s shape', () => {
    const settings = { name: 'n', url: 'v1:sealed', urlDigest: 'h1:k:d', activityTypes: ['bb.issue.create'], active: true, signingSecret: null, previousSigningSecret: null, headers: {}, ordered: false };
    const custom = read('webhook.created', 1, { projectId: 1, webhookId: 3, type: 'CUSTOM', urlMasked: 'http://host.example/SEGTOKEN0123456789abcdef', ...settings });
    const slack = read('webhook.created', 1, { projectId: 1, webhookId: 4, type: 'SLACK', urlMasked: 'https://hooks.slack.com/services/***', ...settings });
    expect([custom, slack].map((e) => [e.schemaVersion, (e.data as { urlMasked: string }).urlMasked])).toEqual([
      [2, 'http://host.example/***'],
      [2, 'https://hooks.slack.com/services/***'],
    ]);
    expect([custom, slack].map(conforms)).toEqual([undefined, undefined]);
  });
});

describe('event schemas', () => {
  it('name what is wrong: the path, an unknown type, a version this code does not read', () => {
    expect(conforms({ type: 'issue.field-updated', schemaVersion: 2, data: { ...ids, field: 'name', from: 'a', to: null } })).toMatch(/data.to must be a string, not null/);
    expect(conforms({ type: 'issue.created', schemaVersion: 1, data: { ...ids, name: 'x', type: 'bb.issue.general', description: '', assigneeId: null, creatorId: 2, pipeline: { stages: [{ id: 1, name: 's', tasks: [{ id: 'one', name: 't' }] }] } } })).toBe(
      'data.pipeline.stages.0.tasks.0.id must be a whole number, not string',
    );
    expect(conforms({ type: 'issue.renamed', schemaVersion: 1, data: {} })).toBe('no schema for the event type issue.renamed');
    expect(conforms({ type: 'issue.comment-created', schemaVersion: 2, data: { ...ids, commentId: 1, content: 'x' } })).toMatch(/schema version 2 of issue.comment-created is not the one this Herald reads \(1\)/);
    // a version-1 null is judged as it reads, upcast
    expect(eventProblem({ type: 'issue.field-updated', schemaVersion: 1, data: { ...ids, field: 'description', from: 'a', to: null } }, EVENT_SCHEMAS, upcasters)).toBeUndefined();
  });
});
