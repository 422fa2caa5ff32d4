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

/**
 * Walks the log in order for one project: its issues' activities as at each event, and
 * which pass the rules. It gives the loop a turn whenever its slice is used up (between
 * events, and between the pages of a long stream it folds), so a scan of any size never
 * holds it long.
 */
export class ReplayScan {
  private readonly issues: StreamStates<IssueState>;
  private readonly projects: StreamStates<ProjectWebhooksState>;
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
    this.issues = new StreamStates(issueAggregate, store, undefined, budget);
    this.projects = new StreamStates(projectWebhooksAggregate, store, undefined, budget);
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
    const projectStream = streamIdOf(projectWebhooksAggregate.kind, this.projectId);
    for (const event of events) {
      await this.budget.pause();
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
      if (activity && decide(activity, this.hook, pipelineOf(event, after)).kind === 'scheduled') found.push({ event, activity });
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
