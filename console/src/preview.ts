import { h, type Child } from './dom.js';

/*
 * A preview of a request body as the room shows it: Slack blocks, a Discord embed, a Teams card, the
 * DingTalk/WeCom/Feishu markdown, a Google Chat card. Built from text nodes only (never HTML from the
 * body), links only to http(s) addresses, no images or other remote content.
 */

type Json = any;

const safeHref = (url: unknown) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : undefined);
const link = (text: string, url: unknown) => {
  const href = safeHref(url);
  return href ? h('a', { href, rel: 'noreferrer noopener', target: '_blank' }, text) : h('span', null, text);
};

/** Inline markdown: **bold**, *bold* (Slack), `code`, [text](url), <url|text> (Slack); WeCom's <font> tags are dropped. */
function inline(text: string, slack = false): Child[] {
  const out: Child[] = [];
  const source = text.replace(/<\/?font[^>]*>/gi, '');
  const pattern = slack ? /(\*[^*\n]+\*)|(`[^`\n]+`)|(<(https?:\/\/[^|>\s]+)\|([^>]+)>)/g : /(\*\*[^*\n]+\*\*)|(`[^`\n]+`)|(\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\))/g;
  let last = 0;
  for (const m of source.matchAll(pattern)) {
    if (m.index! > last) out.push(source.slice(last, m.index));
    if (m[1]) out.push(h('strong', null, m[1].replace(/^\*\*?|\*\*?$/g, '')));
    else if (m[2]) out.push(h('code', null, m[2].slice(1, -1)));
    else out.push(slack ? link(m[5], m[4]) : link(m[4], m[5]));
    last = m.index! + m[0].length;
  }
  if (last < source.length) out.push(source.slice(last));
  return out;
}

/** Block markdown, a line at a time: headings, quotes, code fences, plain lines. */
function markdown(text: string, slack = false): HTMLElement {
  const box = h('div', { class: 'md' });
  for (const line of text.split('\n')) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) box.append(h('p', { class: `md-h${heading[1].length}` }, inline(heading[2], slack)));
    else if (line.startsWith('>')) box.append(h('blockquote', null, inline(line.replace(/^>\s?/, ''), slack)));
    else if (/^```[\s\S]*```$/.test(line)) box.append(h('pre', null, line.slice(3, -3)));
    else if (line.trim() === '') continue;
    else box.append(h('p', null, inline(line, slack)));
  }
  return box;
}

const facts = (pairs: [string, string][]) => h('dl', { class: 'facts' }, pairs.flatMap(([name, value]) => [h('dt', null, inline(name)), h('dd', null, inline(value))]));

function slack(body: Json): HTMLElement {
  return h(
    'div',
    null,
    (body.blocks as Json[]).map((block) =>
      block.type === 'section' ? markdown(String(block.text?.text ?? ''), true) : block.type === 'actions' ? h('p', null, (block.elements ?? []).map((e: Json) => h('span', { class: 'button secondary' }, link(String(e.text?.text ?? ''), e.url)))) : null,
    ),
  );
}

function discord(body: Json): HTMLElement {
  const e = body.embeds[0];
  const color = typeof e.color === 'number' ? `#${e.color.toString(16).padStart(6, '0')}` : undefined;
  return h(
    'div',
    { class: 'embed', 'data-color': color },
    e.author?.name ? h('p', { class: 'muted' }, String(e.author.name)) : null,
    h('p', { class: 'md-h3' }, link(String(e.title ?? ''), e.url)),
    e.description ? markdown(String(e.description)) : null,
    facts((e.fields ?? []).map((f: Json) => [String(f.name), String(f.value)])),
  );
}

function adaptiveCard(card: Json): Child[] {
  const items = (elements: Json[]): Child[] =>
    elements.map((e) =>
      e.type === 'TextBlock'
        ? markdown(String(e.text ?? ''))
        : e.type === 'FactSet'
          ? facts((e.facts ?? []).map((f: Json) => [String(f.title), String(f.value)]))
          : e.type === 'Container' || e.type === 'Column'
            ? items(e.items ?? [])
            : e.type === 'ColumnSet'
              ? items(e.columns ?? [])
              : e.type === 'ActionSet'
                ? items(e.actions ?? [])
                : e.type === 'Action.OpenUrl'
                  ? h('span', { class: 'button secondary' }, link(String(e.title ?? ''), e.url))
                  : null,
    );
  return [...items(card.body ?? []), ...items(card.actions ?? [])];
}

function teams(body: Json): HTMLElement {
  if (body.type === 'message') return h('div', null, adaptiveCard(body.attachments[0].content));
  // MessageCard
  return h('div', null, h('p', { class: 'md-h3' }, String(body.title ?? body.summary ?? '')), (body.sections ?? []).map((s: Json) => [s.text ? markdown(String(s.text)) : null, facts((s.facts ?? []).map((f: Json) => [String(f.name), String(f.value)]))]));
}

function feishu(body: Json): HTMLElement {
  const card = body.card;
  return h(
    'div',
    null,
    h('p', { class: 'md-h3' }, String(card.header?.title?.content ?? '')),
    (card.elements ?? []).map((e: Json) =>
      e.tag === 'markdown' ? markdown(String(e.content ?? '')) : e.tag === 'div' ? markdown(String(e.text?.content ?? '')) : e.tag === 'action' ? (e.actions ?? []).map((a: Json) => h('span', { class: 'button secondary' }, link(String(a.text?.content ?? ''), a.url))) : null,
    ),
  );
}

function googleChat(body: Json): HTMLElement {
  const card = body.cardsV2[0].card;
  return h(
    'div',
    null,
    h('p', { class: 'md-h3' }, String(card.header?.title ?? '')),
    card.header?.subtitle ? h('p', { class: 'muted' }, String(card.header.subtitle)) : null,
    (card.sections ?? []).flatMap((s: Json) =>
      (s.widgets ?? []).map((w: Json) =>
        w.textParagraph ? markdown(String(w.textParagraph.text ?? '').replace(/<[^>]+>/g, '')) : w.decoratedText ? facts([[String(w.decoratedText.topLabel ?? ''), String(w.decoratedText.text ?? '').replace(/<[^>]+>/g, '')]]) : null,
      ),
    ),
  );
}

/** The room's view of a request body, or null when the body is no chat message (Custom JSON, or unreadable). */
export function messagePreview(body: string): HTMLElement | null {
  let json: Json;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (!json || typeof json !== 'object') return null;
  try {
    const view = Array.isArray(json.blocks)
      ? slack(json)
      : Array.isArray(json.embeds)
        ? discord(json)
        : json.type === 'message' || json['@type'] === 'MessageCard'
          ? teams(json)
          : json.msgtype === 'markdown' && json.markdown?.text !== undefined
            ? markdown(String(json.markdown.text))
            : json.msgtype === 'markdown' && json.markdown?.content !== undefined
              ? markdown(String(json.markdown.content))
              : json.msg_type === 'interactive' && json.card
                ? feishu(json)
                : Array.isArray(json.cardsV2)
                  ? googleChat(json)
                  : null;
    return view ? h('div', { class: 'preview' }, view) : null;
  } catch {
    // a shape this preview does not know: the raw body beside it says everything
    return null;
  }
}
