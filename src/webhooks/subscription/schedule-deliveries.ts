import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Command, CommandHandler, ofType, Saga, type ICommandHandler, type IEvent } from '@nestjs/cqrs';
import { catchError, EMPTY, map, mergeMap, of, type Observable } from 'rxjs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { Evolving, RecordedEvent, SqlWrite } from '../../event-store/event.js';
import { SqliteEventStore } from '../../event-store/sqlite-event-store.js';
import type { IssueState } from '../../issues/issue.decider.js';
import type { IssueEvent } from '../../issues/issue.events.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import type { ProjectState } from '../../projects/project.decider.js';
import { projectAggregate } from '../../projects/project.projection.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import type { Person } from '../activity.js';
import { toActivity } from '../activity-mapping.js';
import { DeliveryWakeUp } from '../delivery/wake-up.js';
import { StreamStates } from './stream-states.js';

/** Published on the EventBus by the webhook subscription: a slice of the log, in order. */
export class LogEventsRead implements IEvent {
  constructor(
    readonly subscription: string,
    readonly events: RecordedEvent[],
    /** Settled by the scheduling command once its transaction has committed (or failed), with the deliveries created. */
    readonly done: { resolve: (created: number) => void; reject: (error: unknown) => void },
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
  private readonly projects: StreamStates<ProjectState>;
  private readonly people = new Map<number, Person>();

  constructor(
    private readonly store: SqliteEventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly wakeUp: DeliveryWakeUp,
  ) {
    this.issues = new StreamStates(issueAggregate, store);
    this.projects = new StreamStates(projectAggregate, store);
  }

  async execute({ read }: ScheduleWebhookDeliveriesCommand): Promise<void> {
    const { events } = read;
    try {
      const now = this.clock.now();
      const rows = events.flatMap((event) => this.deliveriesFor(event, now));
      if (rows.length > 0) {
        // the deliveries commit with the new checkpoint; a slice that created none leaves
        // the checkpoint to the subscription (redoing it would add nothing)
        await this.store.enqueue(
          (tx) => tx.exec([...rows, checkpointWrite(read.subscription, events[events.length - 1].position, now)]),
          // a power cut may undo this slice: the checkpoint goes back with it and the slice is redone
          { durable: false },
        );
        this.wakeUp.wake();
      }
      read.done.resolve(rows.length);
    } catch (error) {
      // the states stepped in memory are ahead of the checkpoint now: forget them
      this.issues.clear();
      this.projects.clear();
      read.done.reject(error);
    }
  }

  /** The delivery rows one event calls for (none for most). */
  private deliveriesFor(event: RecordedEvent, at: Date): SqlWrite[] {
    if (event.streamId.startsWith('project-')) {
      this.projects.step(event);
      return [];
    }
    if (!event.streamId.startsWith('issue-')) return [];
    const { before, after } = this.issues.step(event);
    const project = this.projects.stateAt(`project-${after.projectId}`, event.position);
    const hooks = Object.values(project.webhooks);
    if (hooks.length === 0) return [];
    let activity;
    try {
      activity = toActivity(event as unknown as Evolving<IssueEvent>, before, after, {
        brand: this.config.brand,
        externalUrl: this.config.externalUrl,
        project: { id: project.id, name: project.name },
        person: (id) => this.person(id),
        bot: this.person(SYSTEM_BOT_ID),
      });
    } catch (error) {
      // a bug in mapping one event must not stop every later delivery: log it loudly and go on
      this.logger.error({ err: error, position: event.position, type: event.type }, 'could not map an event to a webhook activity');
      return [];
    }
    if (!activity) return [];
    const json = JSON.stringify(activity);
    const now = at.getTime();
    return hooks
      .filter((hook) => hook.active && hook.activityTypes.includes(activity.type))
      .map((hook) => ({
        sql: `INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_position, issue_id, activity_type, activity, status, next_attempt_at, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?) ON CONFLICT DO NOTHING`,
        params: [deliveryId(event.eventId, hook.id), hook.id, project.id, event.position, after.id, activity.type, json, now, now, now],
      }));
  }

  private person(id: number | null): Person {
    if (id === SYSTEM_BOT_ID || id === null) return { id: SYSTEM_BOT_ID, name: this.config.brand, email: this.config.botEmail };
    let person = this.people.get(id);
    if (!person) {
      const row = this.store.queryOne<{ name: string; email: string }>(`SELECT name, email FROM rm_users WHERE id = ?`, [id]);
      person = { id, name: row?.name ?? `user ${id}`, email: row?.email ?? '' };
      if (row) this.people.set(id, person);
    }
    return person;
  }
}

export function checkpointWrite(subscription: string, position: number, now: Date) {
  return {
    sql: `INSERT INTO subscription_checkpoints (name, position, updated_at) VALUES (?, ?, ?)
          ON CONFLICT (name) DO UPDATE SET position = MAX(position, excluded.position), updated_at = excluded.updated_at`,
    params: [subscription, position, now.toISOString()],
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
