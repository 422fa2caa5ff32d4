import type { Activity } from '../activity.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { SLACK_MEMBER_ID, isMentionable } from '../../users/contact-handles.js';
import { SLACK_EMOJI, actorLine, mentionMarkup, partsOf, truncate, truncateMeasured } from './text.js';
import { DELIVERED, describeResponse, failed, isSuccess, judgeStatus } from './judging.js';

/** Slack's limits (Block Kit and chat.postMessage). */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, buttonText: 75, text: 40000 } as const;

/** Slack errors meaning the webhook's channel or integration is gone for good. */
const GONE = new Set(['action_prohibited', 'channel_not_found', 'no_service', 'channel_is_archived']);

/**
 * Slack mrkdwn control characters. Escaping them keeps what users typed (an issue named
 * `<!channel>`) from becoming a mention or a link; Slack displays the escaped text unchanged.
 */
const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapedLength = (text: string) => escapeMrkdwn(text).length;

/** `text` escaped for mrkdwn, cut so that the escaped form has at most `max` characters. */
function mrkdwn(text: string, max: number): string {
  return escapeMrkdwn(truncateMeasured(text, max, escapedLength));
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

function blocks(activity: Activity, brand: string): object[] {
  const max = SLACK_LIMITS.sectionText;
  const emoji = SLACK_EMOJI[activity.level];
  const head = [section(`*${emoji}${mrkdwn(activity.title, max - emoji.length - 2)}*`)];
  // Herald's own mentions (<@U…> pings the member); user text is escaped, so it never can
  const mentions = mentionMarkup(activity, (p) => (isMentionable(p.slackMemberId, SLACK_MEMBER_ID) ? `<@${p.slackMemberId}>` : undefined));
  if (mentions.length > 0) head.push(section(mentions.join(' ')));
  // a failed task's comment is its Result Detail line: shown once, there
  const { description } = partsOf(activity);
  if (description) head.push(section('```' + mrkdwn(description, max - 6) + '```'));
  const tail = [
    section(`By: ${mrkdwn(actorLine(activity), max - 4)}`),
    {
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: truncate(`View in ${brand}`, SLACK_LIMITS.buttonText) }, url: activity.link }],
    },
  ];
  // Meta lines get the blocks left over; beyond 50 blocks the last lines are dropped.
  const room = SLACK_LIMITS.blocks - head.length - tail.length;
  const meta = activity.meta.slice(0, Math.max(0, room)).map((line) => {
    const name = `*${mrkdwn(line.name, 200)}:* `;
    return section(name + mrkdwn(line.value, max - name.length));
  });
  return [...head, ...meta, ...tail];
}

export const SLACK = defineProvider({
  type: 'SLACK',
  aliases: ['bb.plugin.webhook.slack'],
  displayName: 'Slack',
  exampleUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
  hosts: ['hooks.slack.com', 'hooks.slack-gov.com'],
  publicPathPrefixes: ['/services/'],
  customHeaders: false,
  limits: SLACK_LIMITS,
  // incoming webhooks: 1 message per second per webhook (docs.slack.dev/apis/web-api/rate-limits);
  // a 429 says how long with Retry-After. The receiver is the webhook's URL.
  pace: { limits: [{ count: 1, perMs: 1000 }] },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    const body = { text: mrkdwn(activity.title, SLACK_LIMITS.text), blocks: blocks(activity, ctx.brand) };
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    const error = response.body.trim();
    // Slack answers 200 `ok`; Slack-compatible servers may answer other bodies: any 2xx is delivered.
    if (isSuccess(response.status)) return DELIVERED;
    if (response.status === 400 && error === 'invalid_payload') {
      return failed(`${describeResponse(response)} (Slack refused the message Herald rendered: a bug in the Slack adapter)`);
    }
    if (response.status >= 400 && response.status < 500 && GONE.has(error)) {
      return failed(`${describeResponse(response)} (the channel or integration is gone)`, true);
    }
    return judgeStatus(response, ctx.now);
  },
});
