import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Command, CommandHandler, ofType, Saga, type ICommandHandler, type IEvent } from '@nestjs/cqrs';
import { catchError, EMPTY, map, mergeMap, of, type Observable } from 'rxjs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { parseStreamId, streamIdOf } from '../../event-store/aggregate-store.js';
import type { RecordedEvent, SqlWrite } from '../../event-store/event.js';
import { EventStore, type LogCursor } from '../../event-store/event-store.js';
import type { IssueState } from '../../issues/issue.state.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { userAggregate } from '../../users/user.aggregate.js';
import type { ActivityType } from '../activity.js';
import { ACTIVITY_TYPE_OF_EVENT } from '../activity-mapping.js';
import { projectWebhooksAggregate } from '../config/project-webhooks.js';
import type { ProjectWebhooksState } from '../config/webhook.decider.js';
import { decide, pipelineOf } from '../decisions/decide.js';
import { dmDeliveryId, dmRecipients, planDirectMessages } from '../direct-messages/dm-deliveries.js';
import { EventActivities } from './event-activities.js';
import { SliceTrace, type EventScheduling } from './schedule-tracing.js';
import { StreamStates } from './stream-states.js';

/** Published on the EventBus by the webhook subscription: a slice of the log, in order. */
export class LogEventsRead implements IEvent {
  constructor(
    readonly subscription: string,
    readonly events: RecordedEvent[],
    /** Where the reader stands after these events. */
    readonly cursor: LogCursor,
    /** Settled by the scheduling command once its transaction has committed (or failed), with the deliveries created. */
    readonly done: { resolve: (created: number) => void; reject: (error: unknown) => void },
    /** Where the reader stood before these events. */
    readonly from?: LogCursor,
  ) {}
}

export class ScheduleWebhookDeliveriesCommand extends Command<void> {
  constructor(readonly read: LogEventsRead) {
    super();
  }
}

/** Events → deliveries: the saga only routes; the command handler does the work. */
@Injectable()
export class WebhookSagas {
  private readonly logger = new Logger('WebhookSagas');

  @Saga()
  logEventsRead = (events$: Observable<IEvent>): Observable<Command<void>> =>
    events$.pipe(
      ofType(LogEventsRead),
      // an error while mapping one batch must not end the saga's stream
      mergeMap((read) =>
        of(read).pipe(
          map((r) => new ScheduleWebhookDeliveriesCommand(r)),
          catchError((error) => {
            this.logger.error({ err: error }, 'could not route a log slice to the webhook scheduler');
            read.done.reject(error);
            return EMPTY;
          }),
        ),
      ),
    );
}

export const SUBSCRIPTION_NAME = 'webhooks';

/**
 * Inserts one delivery per (event, subscribed webhook) and advances the subscription's
 * checkpoint, in one transaction: a crash before COMMIT redoes the slice, after it the
 * unique (event, webhook) key makes a replay add nothing.
 */
@CommandHandler(ScheduleWebhookDeliveriesCommand)
export class ScheduleWebhookDeliveriesHandler implements ICommandHandler<ScheduleWebhookDeliveriesCommand> {
  private readonly logger = new Logger('WebhookScheduler');
  private readonly issues: StreamStates<IssueState>;
  private readonly projects: StreamStates<ProjectWebhooksState>;
  private readonly activities: EventActivities;
  /**
   * Where the last slice scheduled here ended. The cached states are those of that point
   * of the log: a slice that starts elsewhere (another instance consumed in between, or
   * the subscription started over from its stored checkpoint) must not use them.
   */
  private continuesFrom: LogCursor | null = null;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.issues = new StreamStates(issueAggregate, store);
    this.projects = new StreamStates(projectWebhooksAggregate, store);
    this.activities = new EventActivities(store, config);
  }

  async execute({ read }: ScheduleWebhookDeliveriesCommand): Promise<void> {
    const { events } = read;
    if (read.from && !(this.continuesFrom && this.continuesFrom.position === read.from.position && this.continuesFrom.transactionId === read.from.transactionId)) {
      this.issues.clear();
      this.projects.clear();
    }
    const traces = new SliceTrace();
    try {
      const now = this.clock.now();
      const rows: SqlWrite[] = [];
      // mapping and filtering a slice of the log takes the loop in turns (filters may cost milliseconds each)
      const slice = new TimeSlice();
      for (const event of events) {
        rows.push(...(await this.deliveriesFor(event, now, slice, traces)));
        await slice.pause();
      }
      if (rows.length > 0) {
        // the deliveries commit with the new checkpoint; a slice that created none leaves
        // the checkpoint to the subscription (redoing it would add nothing)
        await this.store.transact(
          async (tx) => {
            await tx.exec([...rows, checkpointWrite(read.subscription, read.cursor, now)]);
            // every instance's dispatcher looks at once (on PostgreSQL a NOTIFY sent with the COMMIT)
            tx.signal('deliveries');
          },
          // a power cut may undo this slice: the checkpoint goes back with it and the slice is redone
          { durable: false },
        );
      }
      this.continuesFrom = read.cursor;
      traces.committed();
      read.done.resolve(rows.length);
    } catch (error) {
      traces.failed(error);
      // the states stepped in memory are ahead of the checkpoint now: forget them
      this.continuesFrom = null;
      this.issues.clear();
      this.projects.clear();
      read.done.reject(error);
    }
  }

  /** The delivery rows one event calls for (none for most). */
  private async deliveriesFor(event: RecordedEvent, at: Date, slice: TimeSlice, traces: SliceTrace): Promise<SqlWrite[]> {
    const stream = parseStreamId(event.streamId);
    if (stream.kind === projectWebhooksAggregate.kind) {
      await this.projects.step(event);
      return [];
    }
    if (stream.kind === userAggregate.kind) {
      // a user's handles changed (or a token, which costs a lookup): read them again when next named
      this.activities.forget(stream.id);
      return [];
    }
    if (stream.kind !== issueAggregate.kind) return [];
    const { before, after } = await this.issues.step(event);
    const project = await this.projects.stateAt(streamIdOf(projectWebhooksAggregate.kind, after.projectId), event);
    const hooks = Object.values(project.webhooks);
    if (hooks.length === 0) return [];
    // in the event's trace, if it has one (a project without webhooks schedules nothing: no span)
    const traced: EventScheduling | null = traces.event(event);
    const subscribed = (type: ActivityType) => hooks.filter((hook) => hook.active && hook.activityTypes.includes(type));
    type Status = 'PENDING' | 'FAILED' | 'SKIPPED';
    const row = (hook: { id: number; type: string }, type: ActivityType, json: string, status: Status, lastError: string | null, recipientId: number | null = null): SqlWrite => {
      const id = recipientId === null ? deliveryId(event.eventId, hook.id) : dmDeliveryId(event.eventId, hook.id, recipientId);
      const { traceparent, tracestate } = traced?.delivery(id, hook, status) ?? { traceparent: null, tracestate: null };
      return {
        sql: `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, last_error, created_at, updated_at, traceparent, tracestate, recipient_id)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        params: [id, hook.id, project.id, event.position, after.id, type, json, status, at.getTime(), lastError, at.getTime(), at.getTime(), traceparent, tracestate, recipientId],
      };
    };
    let activity;
    try {
      activity = await this.activities.activityOf(event, before, after, project);
    } catch (error) {
      // a bug in mapping one event must not stop every later delivery, nor pass unseen: each webhook that
      // would have heard of it gets a FAILED delivery saying why (redelivered, it fails the same way)
      const reason = `could not map event ${event.position} (${event.type}) to an activity: ${(error as Error).message}`;
      this.logger.error({ err: error, position: event.position, type: event.type }, 'could not map an event to a webhook activity');
      const type = ACTIVITY_TYPE_OF_EVENT[event.type];
      return type ? subscribed(type).map((hook) => row(hook, type, JSON.stringify({ unmapped: reason }), 'FAILED', reason)) : [];
    }
    traced?.mapped(activity?.type ?? null);
    if (!activity) return [];
    const json = JSON.stringify(activity);
    const pipeline = pipelineOf(event, after);
    // the one rule the decisions route explains and replays apply
    const rows: SqlWrite[] = [];
    const creator = activity.type === 'bb.pipeline.failed' ? await this.activities.mentionOf(after.creatorId) : undefined;
    const recipients = dmRecipients(activity, creator);
    for (const hook of hooks) {
      if (decide(activity, hook, pipeline).kind === 'scheduled') {
        // a webhook that sends direct messages: one delivery per person told, the channel mentioning the others
        const plan = planDirectMessages(activity, hook, project.imApps, recipients);
        rows.push(row(hook, activity.type, plan ? JSON.stringify(plan.channel) : json, 'PENDING', null));
        for (const dm of plan?.dms ?? []) rows.push(row(hook, activity.type, JSON.stringify(dm.activity), dm.noHandle ? 'SKIPPED' : 'PENDING', dm.noHandle, dm.to.id));
      }
      // after every webhook's decision, filtered or not: a filter may have spent its whole budget
      await slice.pause();
    }
    return rows;
  }
}

/** Stores a subscription's cursor; never moves it back (a slow, superseded writer cannot undo a newer one). */
export function checkpointWrite(subscription: string, cursor: LogCursor, now: Date): SqlWrite {
  return {
    sql: `INSERT INTO subscription_checkpoints (name, position, transaction_id, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (name) DO UPDATE SET position = excluded.position, transaction_id = excluded.transaction_id, updated_at = excluded.updated_at
          WHERE subscription_checkpoints.transaction_id < excluded.transaction_id
             OR (subscription_checkpoints.transaction_id = excluded.transaction_id AND subscription_checkpoints.position < excluded.position)`,
    params: [subscription, cursor.position, cursor.transactionId, now.toISOString()],
  };
}

/**
 * Delivery ids in the Standard Webhooks style, derived from (event, webhook): the same
 * delivery keeps its id on every attempt, and even if a power cut makes the scheduler
 * create it again, so receivers can always deduplicate.
 */
export function deliveryId(eventId: string, webhookId: number): string {
  return `msg_${createHash('sha256').update(`${eventId}:${webhookId}`).digest('hex').slice(0, 32)}`;
}
