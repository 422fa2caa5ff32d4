import { registerUpcasters } from '../../src/domain.js';
import { UpcasterRegistry } from '../../src/event-store/upcasters.js';
import type { Evolving } from '../../src/event-store/event.js';
import type { IssueEvent } from '../../src/issues/issue.events.js';
import { issueAggregate } from '../../src/issues/issue.projection.js';
import type { IssueState } from '../../src/issues/issue.state.js';
import type { Activity, Mention } from '../../src/webhooks/activity.js';
import { toActivity } from '../../src/webhooks/activity-mapping.js';

/** An event as a stream fixture holds it (an export of Herald's log). */
export interface StoredEvent {
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: any;
  metadata: { actorId: number };
  occurredAt: string;
}

/** One issue event of a stream, with the issue before and after it, the people as they were then, and Herald's activity for it. */
export interface MappedEvent {
  event: Evolving<IssueEvent>;
  before: IssueState;
  after: IssueState;
  project: { id: number; name: string };
  people: ReadonlyMap<number, Mention>;
  /** Null for an event no webhook hears of. */
  activity: Activity | null;
}

export const ORACLE_CONFIG = { brand: 'Bytebase', externalUrl: 'https://herald.example.com', botEmail: 'support@bytebase.com' };

const upcasters = registerUpcasters(new UpcasterRegistry());

/**
 * Herald's own mapping run over a stream fixture in the log's order, as the webhook subscription
 * runs it: each event upcast as the store reads it, each issue folded with its aggregate's evolve,
 * people and project names as the log says at that event.
 */
export function mapStream(events: StoredEvent[], config = ORACLE_CONFIG): MappedEvent[] {
  const people = new Map<number, Mention>();
  const projects = new Map<number, string>();
  const issues = new Map<string, IssueState>();
  const mapped: MappedEvent[] = [];
  for (const stored of events) {
    const { type, data } = upcasters.upcast(stored);
    if (type === 'user.created') people.set(data.userId, { id: data.userId, name: data.name, email: data.email, phone: null, slackMemberId: null, wecomUserId: null });
    if (type === 'user.contact-set') people.set(data.userId, { ...people.get(data.userId)!, phone: data.phone, slackMemberId: data.slackMemberId, wecomUserId: data.wecomUserId });
    if (type === 'project.created' || type === 'project.renamed') projects.set(data.projectId, data.name);
    if (!stored.streamId.startsWith('issue-')) continue;
    const event = { type, schemaVersion: stored.schemaVersion, data, metadata: stored.metadata, occurredAt: stored.occurredAt } as unknown as Evolving<IssueEvent>;
    const before = issues.get(stored.streamId) ?? issueAggregate.initialState;
    const after = issueAggregate.evolve(before, event);
    issues.set(stored.streamId, after);
    const snapshot = new Map(people);
    // the System Bot is named after the brand, whatever its user row says (as EventActivities does)
    const bot: Mention = { id: 1, name: config.brand, email: config.botEmail, phone: null, slackMemberId: null, wecomUserId: null };
    const mention = (id: number): Mention => (id === 1 ? bot : (snapshot.get(id) ?? { id, name: `user ${id}`, email: '', phone: null, slackMemberId: null, wecomUserId: null }));
    const person = (id: number | null) => {
      const { name, email } = mention(id ?? 1);
      return { id: id ?? 1, name, email };
    };
    const project = { id: after.projectId, name: projects.get(after.projectId) ?? `project ${after.projectId}` };
    const activity = toActivity(event, before, after, { brand: config.brand, externalUrl: config.externalUrl, project, person, mention, bot: person(1) });
    mapped.push({ event, before, after, project, people: snapshot, activity });
  }
  return mapped;
}
