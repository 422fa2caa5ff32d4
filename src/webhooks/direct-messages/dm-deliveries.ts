import { createHash } from 'node:crypto';
import type { Activity, Mention } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { ImApps } from './im-app.decider.js';
import { canReach } from './messenger.js';
import { messengerFor } from './messengers.js';

/** What one activity makes for one webhook that sends direct messages: its channel message, and one DM per person. */
export interface DirectMessagePlan {
  /** The channel message: it mentions only the people no DM can reach. */
  channel: Activity;
  dms: { to: Mention; activity: Activity; noHandle: string | null }[];
}

/**
 * Who is told directly (as Bytebase's IM apps do): the approvers an approval request asks, the
 * creator of an issue approved or sent back (the people the channel message mentions), and the
 * creator of an issue whose rollout failed.
 */
export function dmRecipients(activity: Activity, creator: Mention | undefined): Mention[] {
  switch (activity.type) {
    case 'bb.issue.approval.requested':
    case 'bb.issue.approved':
    case 'bb.issue.sent-back':
      return activity.mentions ?? [];
    case 'bb.pipeline.failed':
      return creator ? [creator] : [];
    default:
      return [];
  }
}

/**
 * The plan for a webhook (null when it sends no DMs: not asked to, or its project has no IM app
 * of its type at the event, or nobody to tell). A person with nothing the vendor can find them
 * by gets a DM delivery that is SKIPPED with the reason (`dm-no-handle`), and is mentioned in the channel.
 */
export function planDirectMessages(activity: Activity, hook: Pick<WebhookConfig, 'type' | 'directMessage'>, apps: ImApps | undefined, recipients: Mention[]): DirectMessagePlan | null {
  const messenger = messengerFor(hook.type);
  if (!hook.directMessage || !messenger || !apps?.[messenger.type] || recipients.length === 0) return null;
  const unique = [...new Map(recipients.map((person) => [person.id, person])).values()];
  const dms = unique.map((to) => ({
    to,
    activity: { ...activity, mentions: [to], directMessage: { to } },
    noHandle: canReach(messenger, to) ? null : `dm-no-handle: ${to.name} has no handle ${messenger.type} can find them by; mentioned in the channel`,
  }));
  const unreached = new Set(dms.filter((dm) => dm.noHandle !== null).map((dm) => dm.to.id));
  const mentions = (activity.mentions ?? []).filter((person) => unreached.has(person.id) || !dms.some((dm) => dm.to.id === person.id));
  const channel: Activity = { ...activity };
  if (mentions.length > 0) channel.mentions = mentions;
  else delete channel.mentions;
  return { channel, dms };
}

/** A DM's stable id: the same on every attempt and re-creation, different for each person (Standard Webhooks style). */
export function dmDeliveryId(eventId: string, webhookId: number, userId: number): string {
  return `msg_${createHash('sha256').update(`${eventId}:${webhookId}:dm:${userId}`).digest('hex').slice(0, 32)}`;
}
