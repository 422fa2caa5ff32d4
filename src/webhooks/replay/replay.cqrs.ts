import { randomBytes } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { ReplayItem, ReplayProgress, ReplayRequest, ReplayResult } from '../../contract/replays.js';
import { parseStreamId, streamIdOf, type Metadata } from '../../event-store/aggregate-store.js';
import type { RecordedEvent, SqlWrite } from '../../event-store/event.js';
import { EventStore } from '../../event-store/event-store.js';
import type { IssueState } from '../../issues/issue.state.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { projectWebhooksAggregate } from '../config/project-webhooks.js';
import type { ProjectWebhooksState } from '../config/webhook.decider.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { notFound } from '../../shared/errors.js';
import { normalizeActivityType, type Activity } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import { configOf, type WebhookRow } from '../config/webhook.projection.js';
import { decide, pipelineOf } from '../decisions/decide.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';
import { EventActivities } from '../subscription/event-activities.js';
import { deliveryId } from '../subscription/schedule-deliveries.js';
import { StreamStates } from '../subscription/stream-states.js';
import { parseRangeEnd, replayAction, sends, type RangeEnd, type ReplayAction } from './replay-plan.js';

/** A replay's request, result and progress are the API's (contract/replays.ts). */
export type { ReplayItem, ReplayProgress, ReplayRequest, ReplayResult };

export class ReplayCommand extends Command<ReplayResult> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly request: ReplayRequest, readonly metadata: Metadata) {
    super();
  }
}

const PAGE = 1000;
const ITEMS = 100;
const ROWS_PER_INSERT = 200;

/**
 * Replays the log to one webhook: every activity of the range that passes the webhook's
 * current rules (its provider, filter and activity types, or the types asked for), mapped
 * as it was at its event, is delivered under its stable id (deliveryId(event, webhook)),
 * in the log's order, at the provider's pace (the dispatcher's). An event already delivered
 * to the webhook is left alone unless asked for again. A dry run sends nothing and lists
 * exactly what a real run would send.
 */
@CommandHandler(ReplayCommand)
export class ReplayHandler implements ICommandHandler<ReplayCommand> {
  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ projectId, webhookId, request, metadata }: ReplayCommand): Promise<ReplayResult> {
    const from = parseRangeEnd(request.from, 'from');
    const to = request.to !== undefined ? parseRangeEnd(request.to, 'to') : undefined;
    const row = await this.store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ? AND project_id = ?`, [webhookId, projectId]);
    if (!row) throw notFound('webhook', webhookId);
    const current = configOf(row);
    // the rules of a replay: the webhook's own now, asked for explicitly (so active), with the types asked for
    const rules: WebhookConfig = { ...current, active: true, activityTypes: request.activityTypes ? [...new Set(request.activityTypes.map(normalizeActivityType))] : current.activityTypes };
    const [first, last] = [await this.position(from, 'from'), to ? await this.position(to, 'to') : await this.store.head()];
    const dryRun = request.dryRun === true;
    const replayId = dryRun ? undefined : `rpl_${randomBytes(12).toString('hex')}`;
    const now = this.clock.now().getTime();
    if (replayId) {
      await this.store.transact((tx) =>
        tx.exec([
          {
            sql: `INSERT INTO webhook_replays (id, webhook_id, project_id, from_position, to_position, request, count, actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
            params: [replayId, webhookId, projectId, first, last, JSON.stringify(request), metadata.actorId, now],
          },
        ]),
      );
    }
    const scan = new ReplayScan(this.store, this.config, projectId, rules);
    await scan.start();
    let count = 0;
    const items: ReplayItem[] = [];
    for (let after = first - 1; after < last; ) {
      const events = (await this.store.readAll(after, PAGE)).filter((e) => e.position <= last);
      if (events.length === 0) break;
      after = events[events.length - 1].position;
      const planned = await this.plan(await scan.next(events), webhookId, request.includeDelivered === true);
      count += planned.length;
      for (const p of planned) if (items.length < ITEMS) items.push(item(p));
      if (replayId && planned.length > 0) await this.schedule(planned, replayId, webhookId, projectId);
      if (events.length < PAGE) break;
    }
    if (replayId) await this.store.transact((tx) => tx.exec([{ sql: `UPDATE webhook_replays SET count = ? WHERE id = ?`, params: [count, replayId] }]));
    return { ...(replayId ? { replayId } : {}), count, items };
  }

  /** A range end as a position of the log (from: the first event at or after a time; to: the last at or before it). */
  private async position(end: RangeEnd, which: 'from' | 'to'): Promise<number> {
    if (end.kind === 'position') return end.position;
    const row = await this.store.queryOne<{ p: number | null }>(
      which === 'from' ? `SELECT MIN(position) AS p FROM events WHERE occurred_at >= ?` : `SELECT MAX(position) AS p FROM events WHERE occurred_at <= ?`,
      [end.at],
    );
    return row?.p === null || row?.p === undefined ? (which === 'from' ? Number.MAX_SAFE_INTEGER : 0) : Number(row.p);
  }

  /** The activities of one page the replay sends, given the deliveries they already have. */
  private async plan(found: Found[], webhookId: number, includeDelivered: boolean): Promise<Planned[]> {
    const existing = new Map<string, DeliveryStatus>();
    const ids = found.map((f) => deliveryId(f.event.eventId, webhookId));
    // by primary key (a range of positions with the webhook's id lets SQLite pick the webhook's index and
    // scan every delivery the replay has made so far, page after page)
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const row of await this.store.query<{ id: string; status: DeliveryStatus }>(`SELECT id, status FROM webhook_deliveries WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk)) {
        existing.set(row.id, row.status);
      }
    }
    return found
      .map((f, i) => ({ ...f, id: ids[i], existing: existing.get(ids[i]), action: replayAction(existing.get(ids[i]), includeDelivered) }))
      .filter((p) => sends(p.action));
  }

  /** One page's deliveries, in one transaction: new ones inserted, undelivered (or asked-for) ones queued again. */
  private async schedule(planned: Planned[], replayId: string, webhookId: number, projectId: number): Promise<void> {
    const now = this.clock.now().getTime();
    const writes: SqlWrite[] = [];
    const inserts = planned.filter((p) => p.action === 'insert');
    for (let i = 0; i < inserts.length; i += ROWS_PER_INSERT) {
      const chunk = inserts.slice(i, i + ROWS_PER_INSERT);
      writes.push({
        sql: `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, created_at, updated_at, replay_id)
              VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)`).join(', ')} ON CONFLICT DO NOTHING`,
        params: chunk.flatMap((p) => [p.id, webhookId, projectId, p.event.position, p.activity.issue?.id ?? null, p.activity.type, JSON.stringify(p.activity), now, now, now, replayId]),
      });
    }
    for (const p of planned.filter((x) => x.action === 'requeue')) {
      // under the same id (the same webhook-id to the receiver), the activity as at its event, the retry schedule anew
      writes.push({
        sql: `UPDATE webhook_deliveries SET status = 'PENDING', activity = ?, carried_by = NULL, next_attempt_at = ?, retry_base = attempt_count, replay_id = ?, updated_at = ?
              WHERE id = ? AND status IN ('DELIVERED', 'COALESCED', 'FAILED', 'SKIPPED')`,
        params: [JSON.stringify(p.activity), now, replayId, now, p.id],
      });
    }
    // delivery bookkeeping, as the live scheduler's: a power cut may undo a page (replaying again adds it, same ids)
    await this.store.transact(
      async (tx) => {
        await tx.exec(writes);
        tx.signal('deliveries');
      },
      { durable: false },
    );
  }
}

interface Found {
  event: RecordedEvent;
  activity: Activity;
}

interface Planned extends Found {
  id: string;
  existing: DeliveryStatus | undefined;
  action: ReplayAction;
}

const item = (p: Planned): ReplayItem => ({
  eventId: p.event.eventId,
  position: p.event.position,
  activityType: p.activity.type,
  title: p.activity.title,
  issueId: p.activity.issue?.id ?? null,
  createdTs: p.activity.createdTs,
  alreadyDelivered: p.existing === 'DELIVERED' || p.existing === 'COALESCED',
});

/** Walks the log in order for one project: its issues' activities as at each event, and which pass the rules. */
class ReplayScan {
  private readonly issues: StreamStates<IssueState>;
  private readonly projects: StreamStates<ProjectWebhooksState>;
  private readonly activities: EventActivities;
  private issueIds = new Set<number>();

  constructor(
    private readonly store: EventStore,
    config: HeraldConfig,
    private readonly projectId: number,
    private readonly rules: WebhookConfig,
  ) {
    this.issues = new StreamStates(issueAggregate, store);
    this.projects = new StreamStates(projectWebhooksAggregate, store);
    this.activities = new EventActivities(store, config);
  }

  async start(): Promise<void> {
    const rows = await this.store.query<{ id: number }>(`SELECT id FROM rm_issues WHERE project_id = ?`, [this.projectId]);
    this.issueIds = new Set(rows.map((r) => Number(r.id)));
  }

  async next(events: RecordedEvent[]): Promise<Found[]> {
    const found: Found[] = [];
    const projectStream = streamIdOf(projectWebhooksAggregate.kind, this.projectId);
    for (const event of events) {
      if (event.streamId === projectStream) {
        await this.projects.step(event);
        continue;
      }
      const stream = parseStreamId(event.streamId);
      if (stream.kind !== issueAggregate.kind || !this.issueIds.has(stream.id)) continue;
      const { before, after } = await this.issues.step(event);
      const project = await this.projects.stateAt(projectStream, event);
      // an event whose mapping fails is the live scheduler's FAILED delivery, not the replay's to send
      const activity = await this.activities.activityOf(event, before, after, project).catch(() => null);
      if (activity && decide(activity, this.rules, pipelineOf(event, after)).kind === 'scheduled') found.push({ event, activity });
    }
    return found;
  }
}

// ---------------------------------------------------------------- progress

export class GetReplayQuery extends Query<ReplayProgress> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly replayId: string) {
    super();
  }
}

@QueryHandler(GetReplayQuery)
export class GetReplayHandler implements IQueryHandler<GetReplayQuery> {
  constructor(private readonly store: EventStore) {}

  async execute({ projectId, webhookId, replayId }: GetReplayQuery): Promise<ReplayProgress> {
    const replay = await this.store.queryOne<{ id: string; webhook_id: number; from_position: number; to_position: number; count: number; created_at: number }>(
      `SELECT * FROM webhook_replays WHERE id = ? AND webhook_id = ? AND project_id = ?`,
      [replayId, webhookId, projectId],
    );
    if (!replay) throw notFound('replay', replayId);
    const statuses = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
    for (const row of await this.store.query<{ status: DeliveryStatus; n: number }>(`SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE replay_id = ? GROUP BY status`, [replayId])) {
      statuses[row.status] = Number(row.n);
    }
    return {
      id: replay.id,
      webhookId: Number(replay.webhook_id),
      fromPosition: Number(replay.from_position),
      toPosition: Number(replay.to_position),
      count: Number(replay.count),
      createdAt: new Date(Number(replay.created_at)).toISOString(),
      statuses,
      done: statuses.PENDING + statuses.RETRYING + statuses.HELD + statuses.DELIVERING === 0,
    };
  }
}
