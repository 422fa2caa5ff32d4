import type { WebhookConfig } from '../../../src/webhooks/config/webhook.decider.js';
import { decide, pipelineOf, type DeliveryDecision, type WebhookAtEvent } from '../../../src/webhooks/decisions/decide.js';
import type { IssueState } from '../../../src/issues/issue.state.js';
import { initialIssueState } from '../../../src/issues/issue.state.js';
import { ACTIVITIES } from '../providers/activities.js';

/* The one rule of who hears of what: given a webhook's configuration as it was at the event, when this activity, then this decision. */

const webhook = (overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  id: 3,
  projectId: 7,
  type: 'SLACK',
  name: 'deploys',
  url: 'sealed',
  urlMasked: 'https://hooks.slack.com/services/***',
  urlDigest: 'digest',
  activityTypes: ['bb.issue.create', 'bb.pipeline.stage.status.update'],
  active: true,
  signingSecret: null,
  previousSigningSecret: null,
  headers: {},
  ordered: false,
  health: { state: 'ACTIVE', disabledUntil: null, lastError: null },
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
  ...overrides,
});

const given = (hook: WebhookAtEvent) => ({
  when: (activity: keyof typeof ACTIVITIES, pipeline = {}) => ({
    then: (expected: DeliveryDecision) => expect(decide(ACTIVITIES[activity], hook, pipeline)).toEqual(expected),
  }),
});

describe('deciding whether an activity goes to a webhook', () => {
  it('schedules a subscribed activity', () => given(webhook()).when('issueCreated').then({ kind: 'scheduled' }));

  it('does not send an activity type the webhook did not choose', () =>
    given(webhook()).when('commentCreated').then({ kind: 'not-subscribed', activityType: 'bb.issue.comment.create' }));

  it('does not send to a webhook switched off', () => given(webhook({ active: false })).when('issueCreated').then({ kind: 'webhook-disabled' }));

  it('still schedules for a webhook its health disabled (the dispatcher holds or skips it, and says so)', () =>
    given(webhook({ health: { state: 'TEMPORARILY_DISABLED', disabledUntil: '2026-03-01T01:00:00.000Z', lastError: 'HTTP 500' } })).when('issueCreated').then({ kind: 'scheduled' }));

  it('does not send what the filter refuses, naming the filter', () =>
    given(webhook({ filter: 'level == "ERROR"' })).when('issueCreated').then({ kind: 'filtered', filter: 'level == "ERROR"' }));

  it('sends what the filter lets through, with the stage of a pipeline activity', () =>
    given(webhook({ filter: 'level == "ERROR" && stage.name == "prod"' }))
      .when('stageEnded', { stage: { id: 5, name: 'prod', status: 'FAILED' } })
      .then({ kind: 'scheduled' }));

  it('refuses, saying why, when the filter fails on the activity', () =>
    given(webhook({ filter: '1 / (issue.id - 42) == 0' }))
      .when('issueCreated')
      .then({ kind: 'filtered', filter: '1 / (issue.id - 42) == 0', error: expect.stringMatching(/division/i) as unknown as string }));

  it('explains events before the webhook existed, and after it was deleted', () => {
    given('not-created-yet').when('issueCreated').then({ kind: 'webhook-created-later' });
    given('deleted').when('issueCreated').then({ kind: 'webhook-deleted' });
  });

  it('explains a switched-off webhook before its activity types', () =>
    given(webhook({ active: false, activityTypes: ['bb.issue.comment.create'] })).when('issueCreated').then({ kind: 'webhook-disabled' }));
});

describe('the pipeline step an event is about', () => {
  const issue: IssueState = {
    ...initialIssueState,
    stages: [
      { id: 5, name: 'prod', begun: true, tasks: [{ id: 9, name: 'db-prod-1', status: 'FAILED', skipped: false, skippedReason: null }, { id: 10, name: 'db-prod-2', status: 'DONE', skipped: true, skippedReason: 'n/a' }] },
    ],
  };

  it('is the task and its stage for a task event', () =>
    expect(pipelineOf({ data: { taskId: 9 } }, issue)).toEqual({ stage: { id: 5, name: 'prod', status: 'FAILED' }, task: { id: 9, name: 'db-prod-1', status: 'FAILED' } }));

  it('shows a skipped task as SKIPPED', () => expect(pipelineOf({ data: { taskId: 10 } }, issue).task?.status).toBe('SKIPPED'));

  it('is the stage for a stage event, and nothing for an issue event', () => {
    expect(pipelineOf({ data: { stageId: 5 } }, issue)).toEqual({ stage: { id: 5, name: 'prod', status: 'FAILED' } });
    expect(pipelineOf({ data: { issueId: 1 } }, issue)).toEqual({});
  });
});
