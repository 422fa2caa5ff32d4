import type { HeraldConfig } from '../../config/config.js';
import type { Evolving, RecordedEvent } from '../../event-store/event.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { IssueState } from '../../issues/issue.state.js';
import type { IssueEvent } from '../../issues/issue.events.js';
import type { ProjectWebhooksState } from '../config/webhook.decider.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import type { Activity, Mention, Person } from '../activity.js';
import { toActivity } from '../activity-mapping.js';

/**
 * Maps issue events to activities with the issue and project as they were at the event,
 * naming people as the read model has them: the live scheduler, replays and the decisions
 * route all map through it, so they map alike.
 */
export class EventActivities {
  private readonly people = new Map<number, Mention>();

  constructor(
    private readonly store: EventStore,
    private readonly config: Pick<HeraldConfig, 'brand' | 'externalUrl' | 'botEmail'>,
  ) {}

  /** A user's handles changed (an event of their stream): read them again when next named. */
  forget(userId: number): void {
    this.people.delete(userId);
  }

  /** The activity an issue event reports (null for events no webhook hears of); throws when the mapping fails. */
  async activityOf(event: RecordedEvent, before: IssueState, after: IssueState, project: Pick<ProjectWebhooksState, 'id' | 'name'>): Promise<Activity | null> {
    // the people an activity may name or mention, looked up before the (synchronous) mapping
    const people = new Map<number, Mention>();
    const approvers = event.type === 'issue.approval-requested' ? (event.data as { approvers: number[] }).approvers : [];
    for (const id of [SYSTEM_BOT_ID, event.metadata.actorId, before.assigneeId, after.assigneeId, after.creatorId, ...approvers]) {
      // known people without a turn of the event loop (a replay maps thousands of events)
      if (typeof id === 'number' && !people.has(id)) people.set(id, this.people.get(id) ?? (await this.person(id)));
    }
    const mention = (id: number): Mention => people.get(id) ?? { id, name: `user ${id}`, email: '', phone: null, slackMemberId: null, wecomUserId: null };
    const person = (id: number): Person => {
      const { name, email } = mention(id);
      return { id, name, email };
    };
    return toActivity(event as unknown as Evolving<IssueEvent>, before, after, {
      brand: this.config.brand,
      externalUrl: this.config.externalUrl,
      project: { id: project.id, name: project.name },
      person: (id) => person(id ?? SYSTEM_BOT_ID),
      mention,
      bot: person(SYSTEM_BOT_ID),
    });
  }

  /** A user with their handles (a direct message's person who is not among the activity's mentions). */
  mentionOf(id: number): Promise<Mention> {
    return this.person(id);
  }

  /**
   * A user as the activity names them, with their handles as the read model has them (a retried
   * delivery renders the activity stored when it was scheduled). Cached until the log shows an
   * event of the user's stream (a change of handles), which the scheduler reads in order.
   */
  private async person(id: number): Promise<Mention> {
    let person = this.people.get(id);
    if (!person && id === SYSTEM_BOT_ID) {
      person = { id: SYSTEM_BOT_ID, name: this.config.brand, email: this.config.botEmail, phone: null, slackMemberId: null, wecomUserId: null };
      this.people.set(id, person);
    }
    if (!person) {
      const row = await this.store.queryOne<{ name: string; email: string; phone: string | null; slack_member_id: string | null; wecom_user_id: string | null }>(
        `SELECT name, email, phone, slack_member_id, wecom_user_id FROM rm_users WHERE id = ?`,
        [id],
      );
      person = { id, name: row?.name ?? `user ${id}`, email: row?.email ?? '', phone: row?.phone ?? null, slackMemberId: row?.slack_member_id ?? null, wecomUserId: row?.wecom_user_id ?? null };
      if (row) this.people.set(id, person);
    }
    return person;
  }
}
