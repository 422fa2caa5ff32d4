import { describeResponse, jsonObject, throttleOf429 } from '../providers/judging.js';
import type { ProviderResponse } from '../providers/provider.js';
import { TEAMS } from '../providers/teams.js';
import { at, type DirectMessenger, type OpenedImApp, type Reading } from './messenger.js';
import { accessTokenOf, ok, readAnswer } from './readings.js';

/*
 * Microsoft Teams (learn.microsoft.com: the client credentials flow, Graph's
 * userScopeTeamsAppInstallation, the Bot Framework connector): a token per service from
 * login.microsoftonline.com/{tenant}/oauth2/v2.0/token (Graph's `.default`, the Bot Framework's);
 * the person's chat with the app is found with Graph's documented calls, as Bytebase does:
 * users/{email}/teamwork/installedApps?$expand=teamsApp&$filter=teamsApp/externalId eq '{client id}'
 * (the installation: the Teams app's manifest id is the Entra app id, as Bytebase assumes), then
 * users/{email}/teamwork/installedApps/{installation}/chat; the card goes to that chat through the
 * Bot Framework (v3/conversations/{chat}/activities). Herald does not install the app for people (as
 * Bytebase does): a person without it installed (a Teams setup policy can install it for everyone)
 * is mentioned in the channel instead.
 */

const LOGIN = 'https://login.microsoftonline.com';
const GRAPH = 'https://graph.microsoft.com';
const BOT = 'https://smba.trafficmanager.net/teams';
const SCOPES = { lookup: 'https://graph.microsoft.com/.default', send: 'https://api.botframework.com/.default' };

function reading(response: ProviderResponse, now: Date, what: string): Reading<Record<string, unknown>> {
  const answer = readAnswer(response, now);
  const body = jsonObject(response.body);
  const error = body?.error as { code?: unknown; message?: unknown } | string | undefined;
  const said = typeof error === 'string' ? `${error}: ${String(body?.error_description ?? '')}` : error && typeof error.code === 'string' ? `${error.code}: ${String(error.message ?? '')}` : describeResponse(response);
  const reason = `${what}: ${said}`.slice(0, 500);
  if ('reading' in answer) return { ...answer.reading, reason } as Reading<never>;
  return ok(answer.json);
}

const NO_HOOK = { id: 0, type: 'TEAMS', name: '', url: 'https://example.environment.api.powerplatform.com/workflows/x', signingSecrets: [], headers: {} };

export const TEAMS_DM: DirectMessenger = {
  type: 'TEAMS',
  token: {
    perPurpose: true,
    request: (app, purpose) => ({
      url: at(app.apiBase ?? LOGIN, `/${encodeURIComponent(app.credentials.tenantId)}/oauth2/v2.0/token`),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.credentials.clientId, client_secret: app.credentials.clientSecret, scope: SCOPES[purpose], grant_type: 'client_credentials' }).toString(),
    }),
    read(response, now) {
      // 400/401 invalid_client, unauthorized_client…: the app's registration
      return accessTokenOf(reading(response, now, 'oauth2/v2.0/token'), response, now, 'oauth2/v2.0/token', { token: 'access_token', expiresIn: 'expires_in', defaultSeconds: 3600 });
    },
  },
  bearer: (_app, token) => token ?? '',
  handle: () => undefined,
  lookupKey: (person) => (person.email ? person.email : undefined),
  lookup: (app: OpenedImApp, bearer, email) => ({
    method: 'GET',
    url: `${at(app.apiBase ?? GRAPH, `/v1.0/users/${encodeURIComponent(email)}/teamwork/installedApps`)}?$expand=teamsApp&$filter=${encodeURIComponent(`teamsApp/externalId eq '${app.credentials.clientId}'`)}`,
    headers: { Authorization: `Bearer ${bearer}` },
    body: '',
  }),
  readLookup(response, now) {
    const read = reading(response, now, 'installedApps');
    if (read.kind !== 'ok') return read;
    const installation = ((read.value.value as { id?: unknown }[] | undefined) ?? []).map((i) => i.id).find((id): id is string => typeof id === 'string' && id !== '');
    return installation ? ok(installation) : { kind: 'unreachable', reason: 'installedApps: the Teams app is not installed for this person (install it, or let a setup policy)' };
  },
  lookupNext: {
    request: (app, bearer, email, installation) => ({
      method: 'GET',
      url: at(app.apiBase ?? GRAPH, `/v1.0/users/${encodeURIComponent(email)}/teamwork/installedApps/${encodeURIComponent(installation)}/chat`),
      headers: { Authorization: `Bearer ${bearer}` },
      body: '',
    }),
    read(response, now) {
      const read = reading(response, now, 'installedApps/chat');
      if (read.kind !== 'ok') return read;
      const chat = read.value.id;
      return typeof chat === 'string' && chat !== '' ? ok(chat) : { kind: 'retry', reason: `installedApps/chat: ${describeResponse(response)} (no chat id)` };
    },
  },
  render(activity, chatId, app, bearer, ctx) {
    const message = JSON.parse(TEAMS.render({ ...activity, mentions: undefined, directMessage: undefined }, NO_HOOK, { ...ctx, version: '' }).body) as { attachments: unknown[] };
    return {
      url: at(app.apiBase ?? BOT, `/v3/conversations/${encodeURIComponent(chatId)}/activities`),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ type: 'message', attachments: message.attachments }),
    };
  },
  judge(response, now) {
    const read = reading(response, now, 'v3/conversations/activities');
    return read.kind === 'ok' ? ok(undefined) : read;
  },
  throttle: (response, now) => throttleOf429(response, now),
};
