import type { ProjectEvent } from '../../src/projects/project.events.js';
import { projectWebhooksDecider, type ProjectWebhooksEvent } from '../../src/webhooks/config/webhook.decider.js';
import type { WebhookEvent, WebhookSettingsData } from '../../src/webhooks/config/webhook.events.js';
import { NOW, specification } from '../support/given.js';

const given = specification(projectWebhooksDecider, { maxWebhooksPerProject: 100 });
const P = 3;
const ids = { projectId: P, webhookId: 40 };

const projectCreated: ProjectEvent = { type: 'project.created', schemaVersion: 1, data: { projectId: P, name: 'Payments', key: 'PAY', creatorId: 2 } };
const settings: WebhookSettingsData = {
  type: 'SLACK',
  name: 'alerts',
  url: 'sealed:url-1',
  urlMasked: 'https://hooks.slack.com/services/***',
  urlDigest: 'digest-1',
  activityTypes: ['bb.issue.create'],
  active: true,
  signingSecret: null,
  previousSigningSecret: null,
  headers: {},
  ordered: false,
};
const created = (overrides: Partial<WebhookSettingsData> = {}, webhookId = 40): WebhookEvent => ({
  type: 'webhook.created',
  schemaVersion: 2,
  data: { projectId: P, webhookId, ...settings, ...overrides },
});
const updated = (changes: Record<string, unknown>): WebhookEvent => ({ type: 'webhook.updated', schemaVersion: 2, data: { ...ids, changes } });
const health = (state: 'ACTIVE' | 'TEMPORARILY_DISABLED' | 'DISABLED', more: { consecutiveFailures?: number; disabledUntil?: string | null; lastError?: string | null; cause?: string } = {}): WebhookEvent => ({
  type: 'webhook.health-changed',
  schemaVersion: 1,
  data: { ...ids, state, consecutiveFailures: 0, disabledUntil: null, lastError: null, cause: 'failures', ...more },
});
const withHook = (...more: ProjectWebhooksEvent[]) => given(projectCreated, created(), ...more);
const healthCommand = (state: 'ACTIVE' | 'TEMPORARILY_DISABLED' | 'DISABLED', disabledUntil: string | null = null) =>
  ({ kind: 'ChangeWebhookHealth', webhookId: 40, state, consecutiveFailures: 3, disabledUntil, lastError: 'HTTP 500', cause: 'failures' }) as const;

describe('the state folded from the project stream', () => {
  it('knows the project by its own events, and its webhooks by theirs', () => {
    const state = given(projectCreated, { type: 'project.renamed', schemaVersion: 1, data: { projectId: P, from: 'Payments', to: 'Billing' } }, created()).state();
    expect(state).toMatchObject({ exists: true, id: P, name: 'Billing' });
    expect(state.webhooks[40]).toMatchObject({ id: 40, projectId: P, name: 'alerts', health: { state: 'ACTIVE', disabledUntil: null, lastError: null }, createdAt: NOW.toISOString() });
  });
});

describe('creating a webhook', () => {
  it('records its settings', () => given(projectCreated).when({ kind: 'CreateWebhook', webhookId: 40, ...settings }).then([created()]));

  it('refuses a second webhook of the project posting to the same URL, naming the first', () =>
    withHook().when({ kind: 'CreateWebhook', webhookId: 41, ...settings, url: 'sealed:url-1-again' }).thenThrows('conflict', /webhook 40 of this project already posts to this URL/));

  it('accepts another URL', () =>
    withHook().when({ kind: 'CreateWebhook', webhookId: 41, ...settings, urlDigest: 'digest-2' }).then([created({ urlDigest: 'digest-2' }, 41)]));

  const three = [created({ urlDigest: 'd1' }, 41), created({ urlDigest: 'd2' }, 42), created({ urlDigest: 'd3' }, 43)];
  const fourth = { kind: 'CreateWebhook', webhookId: 44, ...settings, urlDigest: 'd4' } as const;

  it('refuses one more than the cap of webhooks per project, saying the cap and how to raise it', () =>
    given(projectCreated, ...three).when(fourth, { maxWebhooksPerProject: 3 }).thenThrows('conflict', /^project 3 has 3 webhooks, the most a project may have \(HERALD_MAX_WEBHOOKS_PER_PROJECT=3\): delete one, or ask the operator to raise HERALD_MAX_WEBHOOKS_PER_PROJECT$/));

  it('counts the webhooks the project has now: a deleted one frees its place', () =>
    given(projectCreated, ...three, { type: 'webhook.deleted', schemaVersion: 1, data: { projectId: P, webhookId: 42 } })
      .when(fourth, { maxWebhooksPerProject: 3 })
      .then([created({ urlDigest: 'd4' }, 44)]));

  it('leaves a project over a lowered cap as it is, refusing only new webhooks', () =>
    given(projectCreated, ...three).when({ kind: 'UpdateWebhook', webhookId: 41, changes: { name: 'renamed' } }, { maxWebhooksPerProject: 1 }).then([{ type: 'webhook.updated', schemaVersion: 2, data: { projectId: P, webhookId: 41, changes: { name: 'renamed' } } }]));
});

describe('updating a webhook', () => {
  it('refuses one that does not exist', () => given(projectCreated).when({ kind: 'UpdateWebhook', webhookId: 40, changes: { name: 'x' } }).thenThrows('not-found', /webhook 40/));

  it('records only what changes', () =>
    withHook().when({ kind: 'UpdateWebhook', webhookId: 40, changes: { name: 'pages', active: true, activityTypes: ['bb.issue.create'] } }).then([updated({ name: 'pages' })]));

  it('records nothing when nothing changes', () => withHook().when({ kind: 'UpdateWebhook', webhookId: 40, changes: { name: 'alerts', ordered: false } }).thenNothingHappened());

  it('tells the same URL by its digest (a sealed URL differs on every sealing)', () =>
    withHook().when({ kind: 'UpdateWebhook', webhookId: 40, changes: { url: 'sealed:url-1-resealed', urlMasked: settings.urlMasked, urlDigest: 'digest-1' } }).thenNothingHappened());

  it('records a new URL', () =>
    withHook()
      .when({ kind: 'UpdateWebhook', webhookId: 40, changes: { url: 'sealed:url-2', urlMasked: 'https://hooks.slack.com/services/***2', urlDigest: 'digest-2' } })
      .then([updated({ url: 'sealed:url-2', urlMasked: 'https://hooks.slack.com/services/***2', urlDigest: 'digest-2' })]));

  it('refuses a URL another webhook of the project posts to', () =>
    given(projectCreated, created(), created({ urlDigest: 'digest-2' }, 41))
      .when({ kind: 'UpdateWebhook', webhookId: 40, changes: { url: 'sealed:url-2', urlMasked: 'm', urlDigest: 'digest-2' } })
      .thenThrows('conflict', /webhook 41 of this project already posts to this URL/));

  it('keeps a replaced signing secret signing for 24 hours, so receivers can roll over', () =>
    given(projectCreated, created({ signingSecret: 'sealed:old' }))
      .when({ kind: 'UpdateWebhook', webhookId: 40, changes: { signingSecret: 'sealed:new' } })
      .then([updated({ signingSecret: 'sealed:new', previousSigningSecret: { secret: 'sealed:old', until: '2026-03-02T10:00:00.000Z' } })]));

  it('has no previous secret when there was none', () =>
    withHook().when({ kind: 'UpdateWebhook', webhookId: 40, changes: { signingSecret: 'sealed:new' } }).then([updated({ signingSecret: 'sealed:new', previousSigningSecret: null })]));

  it('keeps a removed signing secret signing for 24 hours too', () =>
    given(projectCreated, created({ signingSecret: 'sealed:old' }))
      .when({ kind: 'UpdateWebhook', webhookId: 40, changes: { signingSecret: null } })
      .then([updated({ signingSecret: null, previousSigningSecret: { secret: 'sealed:old', until: '2026-03-02T10:00:00.000Z' } })]));

  it('re-enables a disabled webhook set active again, keeping its last error', () =>
    withHook(health('DISABLED', { lastError: 'HTTP 410', cause: 'gone' }))
      .when({ kind: 'UpdateWebhook', webhookId: 40, changes: { active: true } })
      .then([health('ACTIVE', { consecutiveFailures: 0, lastError: 'HTTP 410', cause: 'reactivated' })]));

  it('does not re-enable it when set inactive', () =>
    withHook(health('DISABLED')).when({ kind: 'UpdateWebhook', webhookId: 40, changes: { active: false } }).then([updated({ active: false })]));
});

describe('deleting a webhook', () => {
  it('records the deletion', () => withHook().when({ kind: 'DeleteWebhook', webhookId: 40 }).then([{ type: 'webhook.deleted', schemaVersion: 1, data: ids }]));

  it('refuses one that does not exist', () => given(projectCreated).when({ kind: 'DeleteWebhook', webhookId: 40 }).thenThrows('not-found', /webhook 40/));

  it('refuses one deleted before', () => withHook({ type: 'webhook.deleted', schemaVersion: 1, data: ids }).when({ kind: 'DeleteWebhook', webhookId: 40 }).thenThrows('not-found', /webhook 40/));
});

describe('resealing its credentials', () => {
  const sealed = { url: 'sealed2:url-1', urlDigest: 'digest2-1', signingSecret: null, previousSigningSecret: null, headers: {} };

  it('records the credentials sealed under the new key', () =>
    withHook().when({ kind: 'ResealSecrets', webhookId: 40, keyId: 'k2', ...sealed }).then([{ type: 'webhook.secrets-resealed', schemaVersion: 1, data: { ...ids, keyId: 'k2', ...sealed } }]));

  it('records nothing for a webhook deleted meanwhile', () => given(projectCreated).when({ kind: 'ResealSecrets', webhookId: 40, keyId: 'k2', ...sealed }).thenNothingHappened());
});

describe('health changes', () => {
  it('records a change of state', () =>
    withHook().when(healthCommand('TEMPORARILY_DISABLED', '2026-03-01T10:05:00.000Z')).then([health('TEMPORARILY_DISABLED', { consecutiveFailures: 3, disabledUntil: '2026-03-01T10:05:00.000Z', lastError: 'HTTP 500' })]));

  it('records nothing when the state and its end stay the same', () =>
    withHook(health('TEMPORARILY_DISABLED', { disabledUntil: '2026-03-01T10:05:00.000Z' })).when(healthCommand('TEMPORARILY_DISABLED', '2026-03-01T10:05:00.000Z')).thenNothingHappened());

  it('records a later end of the same state', () =>
    withHook(health('TEMPORARILY_DISABLED', { disabledUntil: '2026-03-01T10:05:00.000Z' }))
      .when(healthCommand('TEMPORARILY_DISABLED', '2026-03-01T10:15:00.000Z'))
      .then([health('TEMPORARILY_DISABLED', { consecutiveFailures: 3, disabledUntil: '2026-03-01T10:15:00.000Z', lastError: 'HTTP 500' })]));

  it('records nothing for a webhook deleted meanwhile', () => given(projectCreated).when(healthCommand('DISABLED')).thenNothingHappened());
});
