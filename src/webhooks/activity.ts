import { ACTIVITY_TYPES, type ActivityType } from '../contract/webhooks.js';

/** What a webhook message is about: one activity per webhook-relevant domain event (the API's list, contract/webhooks.ts). */
export { ACTIVITY_TYPES, type ActivityType };

/** Bytebase's current names of its webhook events, accepted on input for Herald's; responses use Herald's. */
export const ACTIVITY_TYPE_ALIASES = {
  ISSUE_CREATED: 'bb.issue.create',
  ISSUE_APPROVAL_REQUESTED: 'bb.issue.approval.requested',
  ISSUE_SENT_BACK: 'bb.issue.sent-back',
  ISSUE_APPROVED: 'bb.issue.approved',
  PIPELINE_FAILED: 'bb.pipeline.failed',
  PIPELINE_COMPLETED: 'bb.pipeline.completed',
} as const satisfies Record<string, ActivityType>;

/** Every name accepted for an activity type on input: Herald's, then Bytebase's current ones. */
export const ACTIVITY_TYPE_INPUTS: readonly string[] = [...ACTIVITY_TYPES, ...Object.keys(ACTIVITY_TYPE_ALIASES)];

/** Herald's name for an accepted input name. */
export function normalizeActivityType(name: string): ActivityType {
  return Object.hasOwn(ACTIVITY_TYPE_ALIASES, name) ? ACTIVITY_TYPE_ALIASES[name as keyof typeof ACTIVITY_TYPE_ALIASES] : (name as ActivityType);
}

export const ACTIVITY_LEVELS = ['INFO', 'SUCCESS', 'WARN', 'ERROR'] as const;
export type ActivityLevel = (typeof ACTIVITY_LEVELS)[number];

export interface Person {
  id: number;
  name: string;
  email: string;
}

/**
 * Someone a message mentions (asks to act), with the handles a provider can really mention them
 * by: chat providers that can ping do so with the handle they take, the others name the person.
 * Handles come only from the user's own settings, never from what anyone typed.
 */
export interface Mention extends Person {
  /** E.164 (DingTalk mentions by the national number). */
  phone: string | null;
  slackMemberId: string | null;
  wecomUserId: string | null;
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
  /** The people to mention (approvers asked, the creator of an approved or sent-back issue); absent: none. */
  mentions?: Mention[];
  /**
   * The description is also a meta line (a failed task's comment is its "Result Detail"): chat
   * messages show it once, as that line. Custom bodies keep `description` as it is.
   */
  descriptionInMeta?: true;
  /** A direct message's activity (see direct-messages/): to this one person, through the project's IM app of the webhook's type. */
  directMessage?: { to: Mention };
}
