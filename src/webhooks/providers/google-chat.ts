import type { Activity } from '../activity.js';
import { defineProvider, type OutgoingRequest, type ProviderResponse, type RenderContext, type Verdict, type WebhookTarget } from './provider.js';
import { UNICODE_EMOJI, type MessageParts, breakMarkup, fitParts, hostMatches, mapParts, partsOf, truncate, utf8Length } from './text.js';
import { DELIVERED, describeResponse, failed, isSuccess, judgeStatus, retry, retryAfterOf } from './judging.js';

/** Google Chat's limits: message text in characters, the whole message in bytes. */
export const GOOGLE_CHAT_LIMITS = { text: 4096, messageBytes: 32_000 } as const;

const HOSTS = ['chat.googleapis.com'] as const;

/** `<users/all>` in a message's text notifies everyone in the space: a zero-width space leaves it text. */
const noMentions = (text: string) => breakMarkup(text, /<(?=\s*users\/)/gi);
/** Card texts take Google Chat's HTML subset: user text is escaped so it shows as typed. */
const escapeHtml = (text: string) => noMentions(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));

function message(activity: Activity, raw: MessageParts, brand: string) {
  const p = mapParts(raw, escapeHtml);
  const plain = mapParts(raw, noMentions);
  const sections: object[] = [];
  if (p.description) sections.push({ widgets: [{ textParagraph: { text: p.description } }] });
  if (p.meta.length > 0) sections.push({ widgets: p.meta.map((m) => ({ decoratedText: { topLabel: m.name, text: m.value } })) });
  sections.push({ widgets: [{ buttonList: { buttons: [{ text: `View in ${brand}`, onClick: { openLink: { url: activity.link } } }] } }] });
  return {
    // the plain fallback notifications and previews show
    text: truncate(plain.title, GOOGLE_CHAT_LIMITS.text),
    cardsV2: [{ cardId: 'herald', card: { header: { title: UNICODE_EMOJI[activity.level] + plain.title, subtitle: plain.actor }, sections } }],
  };
}

export const GOOGLE_CHAT = defineProvider({
  type: 'GOOGLE_CHAT',
  aliases: ['bb.plugin.webhook.google_chat'],
  displayName: 'Google Chat',
  exampleUrl: 'https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=XXXX&token=XXXX',
  hosts: HOSTS,
  publicPathPrefixes: ['/v1/spaces/'],
  customHeaders: false,
  limits: GOOGLE_CHAT_LIMITS,
  // 60 message writes per minute per space (developers.google.com/workspace/chat/limits): every webhook of a space shares them
  pace: { limits: [{ count: 60, perMs: 60_000 }], sharedBy: (url) => /^\/v1\/spaces\/([^/]+)\//.exec(url.pathname)?.[1] },

  /** Google's host takes only a space's incoming-webhook URL, with its key and token; operator-added hosts are left alone. */
  checkUrl(url: URL): string | undefined {
    if (!hostMatches(url.hostname, HOSTS)) return undefined;
    if (!/^\/v1\/spaces\/[^/]+\/messages$/.test(url.pathname)) return 'A Google Chat webhook URL has the path /v1/spaces/{space}/messages';
    if (!url.searchParams.get('key') || !url.searchParams.get('token')) return 'A Google Chat webhook URL carries its key and token parameters';
    return undefined;
  },

  render(activity: Activity, hook: WebhookTarget, ctx: RenderContext): OutgoingRequest {
    // the whole message within 32,000 bytes: the description shrinks first
    const parts = fitParts(partsOf(activity), (p) => utf8Length(JSON.stringify(message(activity, p, ctx.brand))), GOOGLE_CHAT_LIMITS.messageBytes);
    return { url: hook.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(message(activity, parts, ctx.brand)) };
  },

  judge(response: ProviderResponse, ctx: { now: Date }): Verdict {
    if (isSuccess(response.status)) return DELIVERED;
    if (response.status === 400) return failed(`${describeResponse(response)} (Google Chat refused the message Herald rendered: a bug in the Google Chat adapter)`);
    if (response.status === 429) return retry(describeResponse(response), retryAfterOf(response, ctx.now));
    // 401/403/404 (key or token revoked, space or app gone) fail and count toward disabling; 5xx retry
    return judgeStatus(response, ctx.now);
  },
});
