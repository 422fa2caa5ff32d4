import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { StorageUnavailableError } from '../../database/storage-errors.js';
import { parseStreamId, streamIdOf } from '../../event-store/aggregate-store.js';
import type { RecordedEvent } from '../../event-store/event.js';
import { EventStore, type StreamSpan } from '../../event-store/event-store.js';
import { issueAggregate } from '../../issues/issue.projection.js';
import { projectWebhooksAggregate } from '../config/project-webhooks.js';
import type { ProjectWebhooksState } from '../config/webhook.decider.js';
import type { IssueState } from '../../issues/issue.state.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { isTestMessage, type DeliveryRow } from '../delivery/deliveries.js';
import { EventActivities } from '../subscription/event-activities.js';
import { StreamStates } from '../subscription/stream-states.js';
import { ProjectLog } from './replay-scan.js';

/**
 * What the `activity` column of a replay's delivery holds: nothing. Its event is in the log
 * (`event_position`), so the activity is built from it when the delivery is sent, rather than
 * stored once per delivery (a replay of the whole log would write a delivery table bigger
 * than the log itself).
 */
export const NO_ACTIVITY = '';

/** Whether a delivery row keeps no activity of its own (a replay's, not yet coalesced into a digest). */
export const storesNoActivity = (row: Pick<DeliveryRow, 'activity' | 'event_position'>): boolean => row.activity === NO_ACTIVITY && !isTestMessage(row);

/**
 * Builds the activities of a replay's deliveries from the log, exactly as the replay's scan
 * did (ProjectLog: the issue and the project as they were at the event; EventActivities: the
 * mapping), for the dispatcher (after a claim, before the attempts and the coalescing window)
 * and for the delivery log's titles. People are named with their handles as the users' read
 * model has them at the time of the build: every attempt of a replayed delivery is built anew.
 *
 * Batched: the rows' events, with their issues' events from where each issue's kept state
 * stands, are read in one statement (eventsFor), their project's stream once, and each issue's
 * state is kept between claims (a replay's deliveries come in the log's order, so the next
 * claim goes on from where the last one left its issues). The loop gets a turn
 * whenever the slice is used up. An event that cannot be mapped any more (changed, gone, or
 * no activity now) gives its delivery the live path's `unmapped` marker: it fails unsent,
 * saying why.
 */
@Injectable()
export class ReplayedActivities {
  /** Issue states kept between claims (the live scheduler keeps 10,000). */
  static readonly STREAMS = 2_000;
  /**
   * Events the issues of one claim get at most in one read, shared among them (at least 8 each):
   * about a StreamStates page, so no read holds the loop longer than a fold's page does. An issue
   * further behind is read on by StreamStates, a page at a time.
   */
  static readonly READ_AT_ONCE = 1024;
  /** Project states kept between claims. */
  static readonly PROJECTS = 200;
  private readonly kept: KeptStates;

  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {
    this.kept = this.states();
  }

  /** Sets `activity` (JSON) on the rows that store none (claimed, to be sent); the others are left as they are. */
  fill(rows: DeliveryRow[]): Promise<void> {
    return this.fillWith(this.kept, rows);
  }

  /**
   * The same for the delivery log (their titles), with states of its own: a page read
   * newest first must not move back the states the dispatcher's next claim goes on from.
   */
  fillForLog(rows: DeliveryRow[]): Promise<void> {
    return this.fillWith(this.states(), rows);
  }

  private states(): KeptStates {
    return {
      issues: new StreamStates(issueAggregate, this.store, ReplayedActivities.STREAMS),
      projects: new StreamStates(projectWebhooksAggregate, this.store, ReplayedActivities.PROJECTS),
      projectsAt: new Map(),
    };
  }

  private async fillWith(states: KeptStates, rows: DeliveryRow[]): Promise<void> {
    const bare = rows.filter(storesNoActivity);
    if (bare.length === 0) return;
    const budget = new TimeSlice(TimeSlice.SHORT_MS);
    const byProject = new Map<number, DeliveryRow[]>();
    for (const row of bare) {
      const ofProject = byProject.get(Number(row.project_id));
      if (ofProject) ofProject.push(row);
      else byProject.set(Number(row.project_id), [row]);
    }
    for (const [projectId, ofProject] of byProject) {
      const built = await this.build(states, projectId, ofProject, budget);
      for (const row of ofProject) row.activity = built.get(Number(row.event_position)) ?? unmapped(`event ${row.event_position} is no longer in the log`);
    }
  }

  /** The activities (JSON, or an `unmapped` marker) of one project's rows, by event position. */
  private async build({ issues, projects, projectsAt }: KeptStates, projectId: number, rows: DeliveryRow[], budget: TimeSlice): Promise<Map<number, string>> {
    const built = new Map<number, string>();
    const wanted = new Set(rows.map((row) => Number(row.event_position)));
    const events: RecordedEvent[] = [];
    for (const event of await this.eventsFor(issues, rows)) {
      if (parseStreamId(event.streamId).kind === issueAggregate.kind) events.push(event);
      else if (wanted.has(event.position)) built.set(event.position, unmapped(`event ${event.position} (${event.type}) is not an issue's`));
    }
    if (events.length === 0) return built;
    const projectStream = streamIdOf(projectWebhooksAggregate.kind, projectId);
    // the project's kept state serves if it is from before this claim's first event (claims come in the log's
    // order); otherwise (a redelivery of older ones, or none kept) its stream is folded from the start again
    const keptAt = projects.versionOf(projectStream) !== undefined ? projectsAt.get(projectStream) : undefined;
    const goesOn = keptAt !== undefined && keptAt < events[0].position;
    if (!goesOn) projects.forget(projectStream);
    const log = new ProjectLog(this.store, projectId, issues, budget, projects);
    const projectEvents = await this.projectEventsBefore(projectStream, goesOn ? projects.versionOf(projectStream)! : 0, events[events.length - 1].position, budget);
    projectsAt.set(projectStream, projectEvents.length > 0 ? projectEvents[projectEvents.length - 1].position : goesOn ? keptAt : 0);
    // people as the read model has them now (looked up once per build)
    const activities = new EventActivities(this.store, this.config);
    let projectUnreadable: string | null = null;
    for (const event of [...projectEvents, ...events].sort((a, b) => a.position - b.position)) {
      await budget.pause();
      const own = event.streamId !== log.projectStream;
      if (own && projectUnreadable !== null) {
        if (wanted.has(event.position)) built.set(event.position, unmapped(projectUnreadable));
        continue;
      }
      try {
        const at = await log.step(event);
        // an event between two of the rows' (or before the first): it only moves its issue on
        if (!at || !wanted.has(event.position)) continue;
        const activity = await activities.activityOf(event, at.before, at.after, at.project);
        built.set(event.position, activity ? JSON.stringify(activity) : unmapped(`event ${event.position} (${event.type}) maps to no activity now`));
      } catch (error) {
        // storage out of reach: the claim fails as a whole and its deliveries are attempted again later
        if (error instanceof StorageUnavailableError) throw error;
        const reason = `could not map event ${event.position} (${event.type}) to an activity: ${(error as Error).message}`;
        if (own && wanted.has(event.position)) built.set(event.position, unmapped(reason));
        // the project as it was could not be followed: nothing after it is mapped with a wrong one
        else if (!own) projectUnreadable = `could not read project ${projectId} as it was: event ${event.position} (${event.type}): ${(error as Error).message}`;
      }
    }
    return built;
  }

  /**
   * The rows' events, and the events of their issues from where each issue's kept state stands
   * up to them, in one read (a few for a coalescing claim's hundreds): stepped in order, each
   * issue's state then follows on without a read of its own. An issue whose kept state is ahead,
   * or further behind than its share of READ_AT_ONCE, gets its rows' events read by position,
   * and StreamStates folds it (on) a page at a time.
   */
  private async eventsFor(issues: StreamStates<IssueState>, rows: DeliveryRow[]): Promise<RecordedEvent[]> {
    const spans = new Map<string, StreamSpan>();
    for (const row of rows) {
      if (row.issue_id === null) continue;
      const streamId = streamIdOf(issueAggregate.kind, Number(row.issue_id));
      const span = spans.get(streamId);
      if (span) span.toPosition = Math.max(span.toPosition, Number(row.event_position));
      else spans.set(streamId, { streamId, afterVersion: issues.versionOf(streamId) ?? 0, most: 0, toPosition: Number(row.event_position) });
    }
    // readStreamSpans reads 128 issues a statement: 8 each then
    const most = Math.max(8, Math.floor(ReplayedActivities.READ_AT_ONCE / spans.size));
    for (const span of spans.values()) span.most = most;
    const read = spans.size > 0 ? await this.store.readStreamSpans([...spans.values()]) : [];
    const got = new Set(read.map((event) => event.position));
    const missing = rows.map((row) => Number(row.event_position)).filter((position) => !got.has(position));
    if (missing.length === 0) return read;
    return [...read, ...(await this.store.readPositions([...new Set(missing)]))].sort((a, b) => a.position - b.position);
  }

  /**
   * The project stream's events after a version and before a position, a page at a time (a
   * project's stream holds its settings, its webhooks and every change of their health: it grows).
   */
  private async projectEventsBefore(streamId: string, afterVersion: number, position: number, budget: TimeSlice): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let version = afterVersion; ; ) {
      const page = await this.store.readStreamSpans([{ streamId, afterVersion: version, most: StreamStates.PAGE, toPosition: position - 1 }]);
      events.push(...page);
      if (page.length < StreamStates.PAGE) return events;
      version = page[page.length - 1].version;
      await budget.turn();
    }
  }

}

/**
 * Issue and project states kept between builds, and the position of the project event each
 * project's state is at (0: before its first).
 */
interface KeptStates {
  issues: StreamStates<IssueState>;
  projects: StreamStates<ProjectWebhooksState>;
  projectsAt: Map<string, number>;
}

/** The live path's marker for an activity that could not be built: the attempt fails unsent with `reason`. */
const unmapped = (reason: string) => JSON.stringify({ unmapped: reason });
