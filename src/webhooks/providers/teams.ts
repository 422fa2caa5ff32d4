import type { RetiredUrlView } from '../../contract/webhooks.js';
import type { Activity } from '../activity.js';
import { defineProvider, type JudgeContext, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { type MessageParts, breakMarkup, fitParts, hostMatches, levelColorHex, mapParts, partsOf } from './text.js';
import { DELIVERED, describeResponse, failed, isSuccess, judgeStatus, retry, retryAfterOf, throttleOf429, throttleUntil } from './judging.js';

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

/** Where a Workflows URL lives now: `*.logic.azure.com` ones stopped on 2025-11-30. */
const WORKFLOWS_NOW = 'https://*.environment.api.powerplatform.com/…';

/**
 * Teams URLs of retired kinds, still accepted for the tenants that have them: Office 365 connectors
 * (Microsoft retired them in 2026) and Workflows URLs on `*.logic.azure.com` (moved to
 * `*.environment.api.powerplatform.com`).
 */
export function teamsRetiredUrl(url: URL): RetiredUrlView | undefined {
  const host = url.hostname;
  if (hostMatches(host, TEAMS_CONNECTOR_HOSTS)) {
    return {
      kind: 'TEAMS_O365_CONNECTOR',
      message: `Office 365 connector URLs are retired: Microsoft retired the connectors in 2026, and ${host} may take no more messages. In Teams, add a webhook with the Workflows app ("Post to a channel when a webhook request is received") and save its URL here.`,
      useInstead: WORKFLOWS_NOW,
    };
  }
  if (hostMatches(host, ['*.logic.azure.com'])) {
    return {
      kind: 'TEAMS_WORKFLOWS_LOGIC_APPS',
      message: `Workflows URLs on *.logic.azure.com are retired: they stopped on 2025-11-30, when Microsoft moved them to *.environment.api.powerplatform.com. Open the workflow in Power Automate, copy the URL its trigger shows now, and save it here.`,
      useInstead: WORKFLOWS_NOW,
    };
  }
  return undefined;
}

/** Answers with which a retired URL refuses a message: its connector or workflow is gone. */
const GONE = new Set([401, 403, 404, 410]);

/** A refusal from a URL of a retired kind says why, and what to use instead. */
function explainRetired(verdict: Verdict, status: number, url: string | undefined): Verdict {
  if (verdict.kind !== 'failed' || !GONE.has(status) || url === undefined || !URL.canParse(url)) return verdict;
  const retired = teamsRetiredUrl(new URL(url));
  return retired ? { ...verdict, reason: `${verdict.reason}: the URL kind is retired. ${retired.message} (${retired.useInstead})` } : verdict;
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
  exampleUrl: 'https://default0a1b2c.d3.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=XXXX',
  hosts: [...TEAMS_CONNECTOR_HOSTS, ...TEAMS_WORKFLOW_HOSTS],
  publicPathPrefixes: ['/webhookb2/', '/workflows/', '/powerautomate/automations/direct/workflows/'],
  customHeaders: false,
  limits: { bodyBytes: TEAMS_MAX_BODY_BYTES },
  // about 4 requests per second per webhook (learn.microsoft.com, Teams webhooks' rate limits); the receiver is the URL
  pace: { limits: [{ count: 4, perMs: 1000 }] },

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
  retiredUrl: teamsRetiredUrl,

  /** A 429, or a legacy connector's 200 wrapping one. */
  throttle(response: ProviderResponse, ctx: JudgeContext) {
    const wrapped = response.status === 200 && Number(WRAPPED_STATUS.exec(response.body)?.[1] ?? NaN) === 429;
    return wrapped ? throttleUntil(describeResponse(response), ctx.now, retryAfterOf(response, ctx.now)) : throttleOf429(response, ctx.now);
  },

  judge(response: ProviderResponse, ctx: JudgeContext): Verdict {
    if (isSuccess(response.status)) {
      const text = response.body.trim();
      if (response.status === 200 && text !== '1' && CONNECTOR_ERROR.test(text)) {
        return explainRetired(judgeWrappedError(response, text, ctx.now), Number(WRAPPED_STATUS.exec(text)?.[1] ?? NaN), ctx.url);
      }
      return DELIVERED;
    }
    return explainRetired(judgeStatus(response, ctx.now), response.status, ctx.url);
  },
});
