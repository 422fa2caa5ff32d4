import type { Activity } from '../activity.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { type MessageParts, breakMarkup, fitParts, hostMatches, levelColorHex, mapParts, partsOf } from './text.js';
import { DELIVERED, describeResponse, failed, isSuccess, judgeStatus, retry, retryAfterOf } from './judging.js';

/** Legacy Office 365 connector hosts: they take a MessageCard. */
export const TEAMS_CONNECTOR_HOSTS = ['*.office.com', '*.office365.com'] as const;
/** Power Automate Workflows hosts: they take an Adaptive Card. */
export const TEAMS_WORKFLOW_HOSTS = ['*.powerplatform.com', '*.logic.azure.com'] as const;

/**
 * Teams refuses messages over about 28 KB (the card plus Teams' own envelope): keep the JSON body
 * well under that by shrinking the description first.
 */
export const TEAMS_MAX_BODY_BYTES = 25_000;

export type TeamsCardKind = 'MessageCard' | 'AdaptiveCard';

/**
 * The card kind for a webhook URL: a MessageCard for the legacy connector hosts, an Adaptive Card
 * otherwise (Workflows hosts, and hosts the operator added: connectors are retired, Workflows are
 * what new Teams webhooks are).
 */
export function teamsCardKind(url: string): TeamsCardKind {
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    /* an unparsable URL never gets this far; default below */
  }
  return hostMatches(host, TEAMS_CONNECTOR_HOSTS) ? 'MessageCard' : 'AdaptiveCard';
}

/** `<at>` is Teams' mention markup: user text keeps it as text. */
const noMentions = (p: MessageParts) => mapParts(p, (text) => breakMarkup(text, /<(?=\s*at\b)/gi));

function messageCard(activity: Activity, raw: MessageParts, brand: string): object {
  const p = noMentions(raw);
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: p.title,
    themeColor: levelColorHex(activity.level),
    title: p.title,
    sections: [{ activityTitle: p.actor, facts: p.meta.map((m) => ({ name: m.name, value: m.value })), text: p.description }],
    potentialAction: [{ '@type': 'OpenUri', name: `View in ${brand}`, targets: [{ os: 'default', uri: activity.link }] }],
  };
}

function workflowMessage(activity: Activity, raw: MessageParts, brand: string): object {
  const p = noMentions(raw);
  const body: object[] = [{ type: 'TextBlock', text: p.title, weight: 'Bolder', wrap: true }];
  if (p.description) body.push({ type: 'TextBlock', text: p.description, wrap: true });
  // who acted, as Bytebase shows it: the last fact
  body.push({ type: 'FactSet', facts: [...p.meta.map((m) => ({ title: m.name, value: m.value })), { title: 'Actor', value: p.actor }] });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: [{ type: 'Action.OpenUrl', title: `View in ${brand}`, url: activity.link }],
        },
      },
    ],
  };
}

/** The error texts a legacy connector answers with HTTP 200 (it answers `1` on success). */
const CONNECTOR_ERROR = /error|fail/i;
/** "Microsoft Teams endpoint returned HTTP error 429 with ContextId …": the code the connector got. */
const WRAPPED_STATUS = /HTTP error (\d{3})\b/i;

/**
 * A legacy connector's 200 that wraps an error, judged by the wrapped code: 429 and 5xx are
 * transient (throttled, Teams busy) and retried, after Retry-After when given; 413 and other 4xx
 * will not get better and fail. An error text without a code fails.
 */
function judgeWrappedError(response: ProviderResponse, text: string, now: Date): Verdict {
  const code = Number(WRAPPED_STATUS.exec(text)?.[1] ?? NaN);
  const what = `${describeResponse(response)} (an error wrapped in a 200)`;
  if (code === 429 || (code >= 500 && code < 600)) return retry(what, retryAfterOf(response, now));
  return failed(what);
}

export const TEAMS = defineProvider({
  type: 'TEAMS',
  aliases: ['bb.plugin.webhook.teams'],
  displayName: 'Microsoft Teams',
  exampleUrl: 'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=XXXX',
  hosts: [...TEAMS_CONNECTOR_HOSTS, ...TEAMS_WORKFLOW_HOSTS],
  publicPathPrefixes: ['/webhookb2/', '/workflows/', '/powerautomate/automations/direct/workflows/'],
  customHeaders: false,
  limits: { bodyBytes: TEAMS_MAX_BODY_BYTES },
  pace: [{ count: 4, perMs: 1000 }],

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const card = teamsCardKind(hook.url) === 'MessageCard' ? messageCard : workflowMessage;
    const size = (p: MessageParts) => Buffer.byteLength(JSON.stringify(card(activity, p, ctx.brand)), 'utf8');
    const parts = fitParts(partsOf(activity), size, TEAMS_MAX_BODY_BYTES);
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(card(activity, parts, ctx.brand)) };
  },

  /**
   * The judge does not see the URL, so one rule serves both kinds: a legacy connector answers 200
   * `1`, or 200 with an error text (e.g. "Microsoft Teams endpoint returned HTTP error 413") judged by
   * the code it wraps; Workflows answer 202 with an empty body. Any other 2xx is delivered.
   */
  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    if (isSuccess(response.status)) {
      const text = response.body.trim();
      if (response.status === 200 && text !== '1' && CONNECTOR_ERROR.test(text)) return judgeWrappedError(response, text, ctx.now);
      return DELIVERED;
    }
    return judgeStatus(response, ctx.now);
  },
});
