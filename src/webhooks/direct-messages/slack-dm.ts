import { SLACK_MEMBER_ID, isMentionable } from '../../users/contact-handles.js';
import { describeResponse, throttleOf429 } from '../providers/judging.js';
import { SLACK } from '../providers/slack.js';
import { at, type DirectMessenger } from './messenger.js';
import { ok, readAnswer } from './readings.js';

/** Slack's Web API (docs.slack.dev/reference/methods): errors meaning "try again". */
const TRANSIENT = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** A channel message's body, without mentions (the person is the one told): Slack's own Block Kit message. */
const NO_HOOK = { id: 0, type: 'SLACK', name: '', url: 'https://slack.com/', signingSecrets: [], headers: {} };

/**
 * Slack: a bot token (xoxb-) needs no token call; a person is their member id when they set
 * one, else users.lookupByEmail (scope users:read.email); chat.postMessage with the member id
 * as `channel` posts in the app's DM with them (scope chat:write).
 */
export const SLACK_DM: DirectMessenger = {
  type: 'SLACK',
  bearer: (app) => app.credentials.botToken,
  handle: (person) => (isMentionable(person.slackMemberId, SLACK_MEMBER_ID) ? person.slackMemberId : undefined),
  lookupKey: (person) => (person.email ? person.email : undefined),

  lookup(app, bearer, email) {
    return { method: 'GET', url: `${at(app.apiBase ?? 'https://slack.com', '/api/users.lookupByEmail')}?email=${encodeURIComponent(email)}`, headers: { Authorization: `Bearer ${bearer}` }, body: '' };
  },

  readLookup(response, now) {
    const answer = readAnswer(response, now);
    if ('reading' in answer) return answer.reading;
    const body = answer.json;
    if (body.ok === true) {
      const id = (body.user as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' && id ? ok(id) : { kind: 'retry', reason: `${describeResponse(response)} (no user id)` };
    }
    return slackError(String(body.error ?? 'unknown_error'), body);
  },

  render(activity, userId, app, bearer, ctx) {
    const message = JSON.parse(SLACK.render({ ...activity, mentions: undefined, directMessage: undefined }, NO_HOOK, { ...ctx, version: '' }).body) as object;
    return {
      url: at(app.apiBase ?? 'https://slack.com', '/api/chat.postMessage'),
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ channel: userId, ...message }),
    };
  },

  judge(response, now) {
    const answer = readAnswer(response, now);
    if ('reading' in answer) return answer.reading;
    return answer.json.ok === true ? ok(undefined) : slackError(String(answer.json.error ?? 'unknown_error'), answer.json);
  },

  throttle: (response, now) => throttleOf429(response, now),
};

function slackError(error: string, body: Record<string, unknown>) {
  if (TRANSIENT.has(error)) return { kind: 'retry' as const, reason: `Slack: ${error}` };
  if (error === 'users_not_found') return { kind: 'unreachable' as const, reason: 'Slack: users_not_found (nobody in the workspace has this email)' };
  if (error === 'missing_scope') return { kind: 'unreachable' as const, reason: `Slack: missing_scope (the app needs ${String(body.needed ?? 'a scope')})` };
  // a bot token does not expire: invalid_auth, token_revoked, account_inactive… are the app's configuration
  return { kind: 'unreachable' as const, reason: `Slack: ${error}` };
}
