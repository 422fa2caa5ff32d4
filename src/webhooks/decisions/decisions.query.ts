import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { DecisionKind, DecisionView, EventDecisionsView, IssueDecisionsView } from '../../contract/decisions.js';
import type { DmDecisionView } from '../../contract/im-apps.js';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { precedes, type DomainEvent, type Evolving, type RecordedEvent } from '../../event-store/event.js';
import { streamIdOf } from '../../event-store/aggregate-store.js';
import { EventStore } from '../../event-store/event-store.js';
import { initialIssueState, type IssueState } from '../../issues/issue.state.js';
import type { IssueEvent } from '../../issues/issue.events.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { projectWebhooksAggregate } from '../config/project-webhooks.js';
import { initialProjectWebhooksState, type ProjectWebhooksEvent, type ProjectWebhooksState } from '../config/webhook.decider.js';
import { notFound } from '../../shared/errors.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { decodeCursor, encodeCursor } from '../../shared/pagination.js';
import type { DeliveryStatus } from '../delivery/deliveries.js';
import { EventActivities } from '../subscription/event-activities.js';
import { decide, pipelineOf, type WebhookAtEvent } from './decide.js';

/** The decisions' shapes are the API's (contract/decisions.ts): every kind `decide` returns, and `coalesced`. */
export type { DecisionKind, DecisionView, EventDecisionsView, IssueDecisionsView };

export class GetIssueDecisionsQuery extends Query<IssueDecisionsView> {
  constructor(
    readonly issueId: number,
    /** Events per page. */
    readonly limit = 50,
    readonly cursor?: string,
  ) {
    super();
  }
}

const CURSOR_SCOPE = 'decisions';

const REASONS: Record<DecisionKind, string> = {
  scheduled: 'scheduled for delivery',
  'not-subscribed': 'the webhook did not subscribe to this activity type',
  filtered: 'the webhook’s filter did not let it through',
  'webhook-disabled': 'the webhook was switched off (active: false)',
  'webhook-created-later': 'the webhook was created after this event',
  'webhook-deleted': 'the webhook had been deleted',
  coalesced: 'sent within one message with other activities of the same window',
};

/**
 * Why each event of an issue went, or did not go, to each webhook of its project: the
 * decision the scheduler made, recomputed from the log with the webhook's configuration
 * as it was at the event (the project stream holds every change), and the delivery it led to.
 */
@QueryHandler(GetIssueDecisionsQuery)
export class GetIssueDecisionsHandler implements IQueryHandler<GetIssueDecisionsQuery> {
  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  async execute({ issueId, limit, cursor }: GetIssueDecisionsQuery): Promise<IssueDecisionsView> {
    const issueStream = streamIdOf(issueAggregate.kind, issueId);
    const [created] = await this.store.readStream(issueStream, 0, 1);
    if (!created) throw notFound('issue', issueId);
    const projectId = (created.data as { projectId: number }).projectId;
    // a page is the events after the cursor's version (one more read: is there a next page?)
    const afterVersion = decodeCursor(CURSOR_SCOPE, cursor) ?? 0;
    const read = await this.store.readStream(issueStream, afterVersion, limit + 1);
    const page = read.slice(0, limit);
    const lastVersion = page.length > 0 ? page[page.length - 1].version : afterVersion;
    // both streams may be long (an issue of 100,000 events; a project's every webhook change and health change):
    // read a page at a time, the loop given a turn after each page and whenever the slice is used up
    const budget = new TimeSlice(TimeSlice.SHORT_MS);
    const projectEvents: RecordedEvent[] = [];
    for await (const event of streamEvents(this.store, streamIdOf(projectWebhooksAggregate.kind, projectId), 0, Infinity, budget)) projectEvents.push(event);
    const lifetimes = webhookLifetimes(projectEvents);
    // by (event position, webhook): the same pairs deliveryId() hashes, without hashing 10,000 of them
    const rows = await this.store.query<DecisionRow>(
      `SELECT id, webhook_id, event_position, status, carried_by, recipient_id, last_error FROM webhook_deliveries WHERE issue_id = ? AND event_position BETWEEN ? AND ?`,
      [issueId, page[0]?.position ?? 0, page[page.length - 1]?.position ?? 0],
    );
    const deliveries = new Map(rows.filter((row) => row.recipient_id === null).map((row) => [`${row.event_position}:${row.webhook_id}`, row]));
    // a webhook's direct messages for an event, one per person
    const directMessages = new Map<string, DmDecisionView[]>();
    for (const row of rows.filter((r) => r.recipient_id !== null)) {
      const key = `${row.event_position}:${row.webhook_id}`;
      directMessages.set(key, [...(directMessages.get(key) ?? []), dmDecision(row)]);
    }
    const activities = new EventActivities(this.store, this.config);
    // the issue as it was before the page, folded from its first event
    let issue: IssueState = initialIssueState;
    for await (const event of streamEvents(this.store, issueStream, 0, afterVersion, budget)) issue = issueAggregate.evolve(issue, evolving<IssueEvent>(event));
    let project: ProjectWebhooksState = initialProjectWebhooksState;
    let next = 0;
    const items: EventDecisionsView[] = [];
    for (const event of page) {
      await budget.pause();
      while (next < projectEvents.length && precedes(projectEvents[next], event)) project = projectWebhooksAggregate.evolve(project, evolving<ProjectWebhooksEvent>(projectEvents[next++]));
      const before = issue;
      issue = issueAggregate.evolve(issue, evolving<IssueEvent>(event));
      const activity = await activities.activityOf(event, before, issue, project).catch(() => null);
      const item: EventDecisionsView = { position: event.position, eventId: event.eventId, eventType: event.type, occurredAt: event.occurredAt, activityType: activity?.type ?? null, title: activity?.title ?? null, decisions: [] };
      items.push(item);
      if (!activity) continue;
      const pipeline = pipelineOf(event, issue);
      for (const hook of lifetimes.values()) {
        const at: WebhookAtEvent = project.webhooks[hook.id] ?? (precedes(hook.created, event) ? 'deleted' : 'not-created-yet');
        const decision = decide(activity, at, pipeline);
        const delivery = deliveries.get(`${event.position}:${hook.id}`);
        const kind: DecisionKind = decision.kind === 'scheduled' && delivery?.status === 'COALESCED' ? 'coalesced' : decision.kind;
        const view: DecisionView = { webhookId: hook.id, decision: kind };
        if (delivery) {
          view.deliveryId = delivery.id;
          view.status = delivery.status;
          if (kind === 'coalesced' && delivery.carried_by) view.into = delivery.carried_by;
        }
        const dms = directMessages.get(`${event.position}:${hook.id}`);
        if (dms) view.directMessages = dms.sort((a, b) => a.userId - b.userId);
        if (decision.kind === 'filtered') {
          view.filter = decision.filter;
          if (decision.error) view.error = decision.error;
        }
        item.decisions.push(view);
      }
    }
    return {
      issueId,
      projectId,
      webhooks: [...lifetimes.values()].map(({ id, name, type, deleted }) => ({ id, name, type, deleted })),
      reasons: REASONS,
      items,
      nextCursor: read.length > limit ? encodeCursor(CURSOR_SCOPE, lastVersion) : null,
    };
  }
}

interface DecisionRow {
  id: string;
  webhook_id: number;
  event_position: number;
  status: DeliveryStatus;
  carried_by: string | null;
  recipient_id: number | string | null;
  last_error: string | null;
}

/** What became of one person's direct message, read from its delivery. */
function dmDecision(row: DecisionRow): DmDecisionView {
  const base = { userId: Number(row.recipient_id), deliveryId: row.id, status: row.status };
  if (row.status === 'SKIPPED' && row.last_error?.startsWith('dm-no-handle')) return { ...base, decision: 'dm-no-handle', reason: row.last_error };
  if (row.status === 'DELIVERED') return row.last_error ? { ...base, decision: 'dm-fell-back', reason: row.last_error } : { ...base, decision: 'dm-sent' };
  if (row.status === 'FAILED' || row.status === 'SKIPPED') return { ...base, decision: 'dm-failed', ...(row.last_error ? { reason: row.last_error } : {}) };
  return { ...base, decision: 'dm-scheduled' };
}

/** Events read at once from one stream. */
const STREAM_PAGE = 1000;

/** A stream's events after `afterVersion` up to `upTo`, read a page at a time, the loop given a turn after each page. */
async function* streamEvents(store: EventStore, streamId: string, afterVersion: number, upTo: number, budget: TimeSlice): AsyncGenerator<RecordedEvent> {
  for (let version = afterVersion; version < upTo; ) {
    const page = await store.readStream(streamId, version, Math.min(STREAM_PAGE, upTo - version));
    yield* page;
    if (page.length < STREAM_PAGE) return;
    version = page[page.length - 1].version;
    await budget.turn();
  }
}

/** A stored event as its stream's evolve takes it. */
const evolving = <E extends DomainEvent>(event: RecordedEvent) => event as unknown as Evolving<E>;

/** Every webhook a project stream has created: its creation event, latest name and whether it is gone. */
function webhookLifetimes(projectEvents: RecordedEvent[]) {
  const hooks = new Map<number, { id: number; name: string; type: string; created: RecordedEvent; deleted: boolean }>();
  for (const event of projectEvents) {
    const data = event.data as { webhookId?: number; name?: string; type?: string; changes?: { name?: string } };
    if (event.type === 'webhook.created') hooks.set(data.webhookId!, { id: data.webhookId!, name: data.name!, type: data.type!, created: event, deleted: false });
    const hook = data.webhookId !== undefined ? hooks.get(data.webhookId) : undefined;
    if (!hook) continue;
    if (event.type === 'webhook.updated' && data.changes?.name) hook.name = data.changes.name;
    if (event.type === 'webhook.deleted') hook.deleted = true;
  }
  return hooks;
}
