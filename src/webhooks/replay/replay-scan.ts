import type { HeraldConfig } from '../../config/config.js';
import { parseStreamId, streamIdOf } from '../../event-store/aggregate-store.js';
import type { RecordedEvent } from '../../event-store/event.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { IssueState } from '../../issues/issue.state.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { TimeSlice } from '../../shared/time-slice.js';
import type { Activity } from '../activity.js';
import { projectWebhooksAggregate } from '../config/project-webhooks.js';
import type { ProjectWebhooksState, WebhookConfig } from '../config/webhook.decider.js';
import { decide, pipelineOf } from '../decisions/decide.js';
import { EventActivities } from '../subscription/event-activities.js';
import { StreamStates } from '../subscription/stream-states.js';

/** An event of the range that passes the replay's rules, with its activity as at the event. */
export interface Found {
  event: RecordedEvent;
  activity: Activity;
}

/** The rules a replay decides by: the webhook's own when it started, or the activity types asked for. */
export interface ReplayRules {
  activityTypes: string[];
  filter: string | null;
}

/**
 * Events read per page of the log. A replay writes each page's deliveries in one transaction:
 * 100 rows are a couple of milliseconds of SQLite's time. A dry run writes nothing and reads more at once.
 */
export const REPLAY_PAGE = 100;
export const PREVIEW_PAGE = 250;

/** An issue event's issue right before and after it, and its project as at it. */
export interface StatesAtEvent {
  before: IssueState;
  after: IssueState;
  project: ProjectWebhooksState;
}

/**
 * One project's part of the log, read in position order: its own stream's events move the
 * project on, and each of its issues' events comes with the issue and the project as they
 * were at it. A replay's scan reads every event of a range through it; the send of the
 * replay's deliveries (replayed-activity.ts) reads the project's events and the deliveries'
 * own, so both map an event from the same states.
 */
export class ProjectLog {
  readonly projectStream: string;
  private readonly projects: StreamStates<ProjectWebhooksState>;

  constructor(
    store: EventStore,
    projectId: number,
    private readonly issues: StreamStates<IssueState>,
    budget: TimeSlice,
    /** Project states kept by the caller (they must be at or before the first event stepped); new ones otherwise. */
    projects?: StreamStates<ProjectWebhooksState>,
  ) {
    this.projectStream = streamIdOf(projectWebhooksAggregate.kind, projectId);
    this.projects = projects ?? new StreamStates(projectWebhooksAggregate, store, undefined, budget);
  }

  /** The next event in position order: null for one of the project's own (its state moves on), the states for an issue's. */
  async step(event: RecordedEvent): Promise<StatesAtEvent | null> {
    if (event.streamId === this.projectStream) {
      await this.projects.step(event);
      return null;
    }
    const { before, after } = await this.issues.step(event);
    return { before, after, project: await this.projects.stateAt(this.projectStream, event) };
  }
}

/**
 * Walks the log in order for one project: its issues' activities as at each event, and
 * which pass the rules. It gives the loop a turn whenever its slice is used up (between
 * events, and between the pages of a long stream it folds), so a scan of any size never
 * holds it long.
 */
export class ReplayScan {
  private readonly log: ProjectLog;
  private readonly activities: EventActivities;
  private readonly hook: WebhookConfig;
  private issueIds = new Set<number>();

  constructor(
    private readonly store: EventStore,
    config: HeraldConfig,
    private readonly projectId: number,
    webhook: WebhookConfig,
    rules: ReplayRules,
    private readonly budget = new TimeSlice(TimeSlice.SHORT_MS),
  ) {
    this.log = new ProjectLog(store, projectId, new StreamStates(issueAggregate, store, undefined, budget), budget);
    this.activities = new EventActivities(store, config);
    // asked for explicitly, so active; the activity types and filter as the replay started
    this.hook = { ...webhook, active: true, activityTypes: rules.activityTypes as WebhookConfig['activityTypes'], filter: rules.filter };
  }

  async start(): Promise<void> {
    const rows = await this.store.query<{ id: number }>(`SELECT id FROM rm_issues WHERE project_id = ?`, [this.projectId]);
    this.issueIds = new Set(rows.map((r) => Number(r.id)));
  }

  /** The page's events the replay would send, in the log's order. */
  async next(events: RecordedEvent[]): Promise<Found[]> {
    const found: Found[] = [];
    for (const event of events) {
      await this.budget.pause();
      if (event.streamId !== this.log.projectStream) {
        const stream = parseStreamId(event.streamId);
        if (stream.kind !== issueAggregate.kind || !this.issueIds.has(stream.id)) continue;
      }
      const at = await this.log.step(event);
      if (!at) continue;
      // an event whose mapping fails is the live scheduler's FAILED delivery, not the replay's to send
      const activity = await this.activities.activityOf(event, at.before, at.after, at.project).catch(() => null);
      if (activity && decide(activity, this.hook, pipelineOf(event, at.after)).kind === 'scheduled') found.push({ event, activity });
    }
    return found;
  }
}

/**
 * The next page of a range after `after`: its events (at most `size`) and the position read
 * up to (`to` once the range, or the log as it is now, ends).
 */
export async function readRangePage(store: EventStore, after: number, to: number, size: number): Promise<{ events: RecordedEvent[]; scannedTo: number }> {
  const page = await store.readAll(after, size);
  const events = page.filter((e) => e.position <= to);
  const ended = page.length < size || events.length < page.length;
  return { events, scannedTo: ended ? to : events[events.length - 1].position };
}
