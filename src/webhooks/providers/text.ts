import type { Activity, ActivityLevel, Mention, MetaLine } from '../activity.js';

/*
 * Helpers shared by the provider adapters: size-safe truncation, level styling, the
 * message parts every chat card shows (the parts of judging they share: judging.ts).
 * Pure functions: no I/O, no clock.
 */

// ---------------------------------------------------------------------------------------------
// Truncation
// ---------------------------------------------------------------------------------------------

/**
 * How a provider counts a text's size. Must be additive over grapheme clusters and count at least
 * one per UTF-16 code unit (true of characters, UTF-8 bytes and escaped forms).
 */
export type Measure = (text: string) => number;

/**
 * "Characters" are counted as UTF-16 code units (JavaScript's `length`): never fewer than code
 * points or grapheme clusters, so a text within a limit by this count is within it however the
 * provider counts characters.
 */
export const charLength: Measure = (text) => text.length;
export const utf8Length: Measure = (text) => Buffer.byteLength(text, 'utf8');

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The largest grapheme cluster boundary at or before code unit `pos` of `text`.
 *
 * V8's segment iterator is slow on long strings (each step costs time in the string's length), so
 * this asks for the one segment containing `pos`, in a window of the text ending just after the
 * code point at `pos`: a boundary depends only on what precedes it and on the character right
 * after it, so the window gives the same answer as the whole text.
 */
function boundaryAtOrBefore(text: string, pos: number): number {
  if (pos >= text.length) return text.length;
  if (pos <= 0) return 0;
  const window = text.length > pos + 2 ? text.slice(0, pos + 2) : text;
  return graphemes.segment(window).containing(pos)?.index ?? 0;
}

/** The longest prefix of `text` ending between two grapheme clusters whose measure is at most `budget`. */
function prefixWithin(text: string, budget: number, measure: Measure): string {
  if (budget <= 0) return '';
  let pos = 0;
  if (measure === charLength) {
    pos = Math.min(budget, text.length);
  } else {
    let used = 0;
    for (const codePoint of text) {
      used += measure(codePoint);
      if (used > budget) break;
      pos += codePoint.length;
    }
  }
  return text.slice(0, boundaryAtOrBefore(text, pos));
}

/**
 * `text` if its measure is at most `max`; otherwise its longest prefix that, with `suffix`
 * appended, measures at most `max`. Cuts only between grapheme clusters, so it never splits a
 * surrogate pair, an emoji ZWJ sequence or a base character from its combining marks. When not
 * even the suffix fits, the bare prefix is returned.
 */
export function truncateMeasured(text: string, max: number, measure: Measure, suffix = '…'): string {
  if (measure(text) <= max) return text;
  const suffixSize = measure(suffix);
  if (suffixSize > max) return prefixWithin(text, max, measure);
  return prefixWithin(text, max - suffixSize, measure) + suffix;
}

/** At most `maxChars` characters (UTF-16 code units, see `charLength`), suffix included. */
export function truncate(text: string, maxChars: number, suffix = '…'): string {
  return truncateMeasured(text, maxChars, charLength, suffix);
}

/**
 * At most `maxBytes` bytes of UTF-8, cut between grapheme clusters. No suffix unless one is given
 * (the suffix counts toward the limit).
 */
export function truncateUtf8Bytes(text: string, maxBytes: number, suffix = ''): string {
  return truncateMeasured(text, maxBytes, utf8Length, suffix);
}

/** Largest n in [lo, hi] for which the monotone predicate (true, …, true, false, …) holds; lo - 1 if none. */
function largest(lo: number, hi: number, ok: (n: number) => boolean): number {
  let best = lo - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

/**
 * The longest grapheme prefix of `text` (plus '…' when cut) that `fits`, or undefined when not even
 * one grapheme does. `cap` is an upper bound on how many characters could possibly fit (every
 * measure used here counts at least one per UTF-16 code unit), which keeps the search short.
 */
function shrinkToFit(text: string, fits: (candidate: string) => boolean, cap: number): string | undefined {
  if (fits(text)) return text;
  const candidate = (pos: number) => {
    const end = boundaryAtOrBefore(text, pos);
    return end > 0 ? text.slice(0, end) + '…' : undefined;
  };
  // Candidates grow with `pos` (undefined before the first boundary counts as "fits").
  const pos = largest(1, Math.min(cap, text.length), (n) => {
    const c = candidate(n);
    return c === undefined || fits(c);
  });
  return pos >= 1 ? candidate(pos) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Message parts and fitting a whole message into a size limit
// ---------------------------------------------------------------------------------------------

/** The variable texts of a chat message: what gets shrunk when the message is too big. */
export interface MessageParts {
  title: string;
  description: string;
  meta: MetaLine[];
  /** `name (email)` of the actor. */
  actor: string;
}

/** `name (email)` of the activity's actor. */
export function actorLine(activity: Activity): string {
  return `${activity.actor.name} (${activity.actor.email})`;
}

/**
 * The texts a chat message shows. A description that a meta line already carries (a failed
 * task's comment, shown as "Result Detail") is not shown twice.
 */
export function partsOf(activity: Activity): MessageParts {
  return { title: activity.title, description: activity.descriptionInMeta ? '' : activity.description, meta: activity.meta, actor: actorLine(activity) };
}

/** Every user text of the parts (title, description, meta names and values, actor) through `f`. */
export function mapParts(p: MessageParts, f: (text: string) => string): MessageParts {
  return { title: f(p.title), description: f(p.description), meta: p.meta.map((m) => ({ name: f(m.name), value: f(m.value) })), actor: f(p.actor) };
}

/**
 * Mention markup that user text must not carry into a room (`<at>` in Teams, `<@user>` in WeCom,
 * `<users/all>` in Google Chat): a zero-width space after the `<` leaves it readable as text and
 * no longer markup. `pattern` matches the whole token start, e.g. /<(?=at\b)/gi.
 */
export function breakMarkup(text: string, pattern: RegExp): string {
  return text.replace(pattern, (match) => `${match}\u200B`);
}

/**
 * Shrink `parts` until `size(parts) <= limit`: first the description, then the meta values (one
 * common cap for all of them, then dropping lines from the end), then the title, then the actor.
 * `size` must grow with the texts (it is the size of the message rendered from the parts, in the
 * provider's unit, which counts at least one per UTF-16 code unit). Messages that already fit are
 * returned unchanged.
 */
export function fitParts(parts: MessageParts, size: (p: MessageParts) => number, limit: number): MessageParts {
  const fits = (p: MessageParts) => size(p) <= limit;
  if (fits(parts)) return parts;
  let p = parts;

  const description = shrinkToFit(p.description, (d) => fits({ ...p, description: d }), limit);
  if (description !== undefined) return { ...p, description };
  p = { ...p, description: '' };
  if (fits(p)) return p;

  const longest = Math.min(limit, p.meta.reduce((max, m) => Math.max(max, m.value.length), 0));
  const capMeta = (cap: number) => p.meta.map((m) => ({ name: m.name, value: truncate(m.value, cap) }));
  const cap = largest(1, longest, (c) => fits({ ...p, meta: capMeta(c) }));
  if (cap >= 1) return { ...p, meta: capMeta(cap) };
  p = { ...p, meta: capMeta(1) };
  const lines = largest(0, p.meta.length, (n) => fits({ ...p, meta: p.meta.slice(0, n) }));
  if (lines >= 0) return { ...p, meta: p.meta.slice(0, lines) };
  p = { ...p, meta: [] };

  const title = shrinkToFit(p.title, (t) => fits({ ...p, title: t }), limit);
  if (title !== undefined) return { ...p, title };
  p = { ...p, title: '…' };

  const actor = shrinkToFit(p.actor, (a) => fits({ ...p, actor: a }), limit);
  return { ...p, actor: actor ?? '…' };
}

/**
 * The mention markup of the activity's mentioned people that a provider can really ping, one per
 * handle (`markup` returns undefined for a person it has no valid handle for: they are still named
 * in the message's lines). Handles come from users' settings only, never from text anyone typed.
 */
export function mentionMarkup(activity: Activity, markup: (person: Mention) => string | undefined): string[] {
  const out = new Set<string>();
  for (const person of activity.mentions ?? []) {
    const m = markup(person);
    if (m) out.add(m);
  }
  return [...out];
}

/** Markdown block quote of a (possibly multi-line) text. */
export function quote(text: string): string {
  return `> ${text.replace(/\r?\n/g, '\n> ')}`;
}

// ---------------------------------------------------------------------------------------------
// Level styling
// ---------------------------------------------------------------------------------------------

/** Slack mrkdwn emoji shortcodes (providers.md). */
export const SLACK_EMOJI: Record<ActivityLevel, string> = {
  INFO: '',
  SUCCESS: ':white_check_mark: ',
  WARN: ':warning: ',
  ERROR: ':exclamation: ',
};

/** The same emoji as Unicode, for services that do not expand Slack shortcodes in API messages (Discord). */
export const UNICODE_EMOJI: Record<ActivityLevel, string> = {
  INFO: '',
  SUCCESS: '\u2705 ',
  WARN: '\u26A0\uFE0F ',
  ERROR: '\u2757 ',
};

/** Level colors (Discord embed color, Teams themeColor). */
export const LEVEL_COLOR: Record<ActivityLevel, number> = {
  INFO: 0x1264a3,
  SUCCESS: 0x2eb67d,
  WARN: 0xecb22e,
  ERROR: 0xe01e5a,
};

/** `1264A3`: the level color as six hex digits, without '#'. */
export function levelColorHex(level: ActivityLevel): string {
  return LEVEL_COLOR[level].toString(16).toUpperCase().padStart(6, '0');
}

/** Feishu/Lark card header templates. */
export const FEISHU_TEMPLATE: Record<ActivityLevel, string> = {
  INFO: 'blue',
  SUCCESS: 'green',
  WARN: 'orange',
  ERROR: 'red',
};

/** WeCom markdown status prefixes (WeCom only knows the colors info, comment and warning). */
export const WECOM_STATUS: Record<ActivityLevel, string> = {
  INFO: '',
  SUCCESS: '<font color="info">Success</font> ',
  WARN: '<font color="warning">Warn</font> ',
  ERROR: '<font color="warning">Error</font> ',
};

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

/** Whether `host` matches `pattern` as given: an exact host, or `*.domain` for any subdomain of it. */
export function matchesHostPattern(host: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
}

/** Whether a URL's host matches one of the patterns, both taken in lower case (and the host without a final dot). */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((pattern) => matchesHostPattern(h, pattern.toLowerCase()));
}
