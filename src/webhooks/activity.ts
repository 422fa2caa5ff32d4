/** What a webhook message is about: one activity per webhook-relevant domain event. */
export const ACTIVITY_TYPES = [
  'bb.issue.create',
  'bb.issue.comment.create',
  'bb.issue.field.update',
  'bb.issue.status.update',
  'bb.pipeline.stage.status.update',
  'bb.pipeline.task.status.update',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export const ACTIVITY_LEVELS = ['INFO', 'SUCCESS', 'WARN', 'ERROR'] as const;
export type ActivityLevel = (typeof ACTIVITY_LEVELS)[number];

export interface Person {
  id: number;
  name: string;
  email: string;
}

export interface MetaLine {
  name: string;
  value: string;
}

export interface Activity {
  type: ActivityType;
  level: ActivityLevel;
  title: string;
  description: string;
  link: string;
  actor: Person;
  /** The event's time in epoch seconds: the same on every retry. */
  createdTs: number;
  project: { id: number; name: string };
  /** null for the test message. */
  issue: { id: number; name: string; status: string; type: string; description: string; creator: Person } | null;
  /** The lines chat providers show, in order (Project Title, Project ID, Issue, …), already cut to size. */
  meta: MetaLine[];
  /**
   * The description is also a meta line (a failed task's comment is its "Result Detail"): chat
   * messages show it once, as that line. Custom bodies keep `description` as it is.
   */
  descriptionInMeta?: true;
}
