import type { Activity } from '../../../src/webhooks/activity.js';
import { PROVIDERS, type WebhookType } from '../../../src/webhooks/providers/registry.js';
import { LONE_SURROGATE, TEAMS_WORKFLOWS_URL, ctx, hook, huge, utf8 } from './activities.js';

/* Oversized activities: every provider's body stays within every limit, valid JSON of the right shape. */

type Json = any;

const FAMILY = '👩‍👩‍👧‍👦'; // 11 UTF-16 code units, 25 bytes, one grapheme
const COMBINING = 'e\u0301\u0302\u0303'; // one grapheme of 4 code units

const fillers: Record<string, string> = {
  '100 KB of ASCII': 'x'.repeat(100 * 1024),
  '100 KB of JSON-escaped characters': '"\\\n\u0001<&>'.repeat(100 * 1024 / 8),
  'emoji families': FAMILY.repeat(10_000),
  'mixed emoji, CJK and combining marks': `审计${FAMILY}🚀${COMBINING}é`.repeat(5_000),
};

/** Cases: each filler as the description and meta values; also as the title and the actor name. */
const cases: [string, Activity][] = Object.entries(fillers).flatMap(([name, filler]) => [
  [`${name} (description and meta values)`, huge(filler)] as [string, Activity],
  [`${name} everywhere (title and actor too)`, huge(filler, { title: filler, actor: { id: 9, name: filler, email: 'x@example.com' } })] as [string, Activity],
]);
cases.push([
  '100 meta lines',
  huge('short', { meta: Array.from({ length: 100 }, (_, i) => ({ name: `Line ${i}`, value: `${FAMILY} value ${i}` })) }),
]);

/** Every limit of providers.md for one provider's JSON body; returns the texts to scan for lone surrogates. */
const limits: Record<string, (json: Json, body: string) => void> = {
  SLACK(json) {
    expect(json.blocks.length).toBeLessThanOrEqual(50);
    expect(json.text.length).toBeLessThanOrEqual(40_000);
    expect(json.blocks[0].type).toBe('section');
    for (const block of json.blocks.slice(0, -1)) {
      expect(block).toEqual({ type: 'section', text: { type: 'mrkdwn', text: expect.any(String) } });
      expect(block.text.text.length).toBeLessThanOrEqual(3000);
      expect(block.text.text.length).toBeGreaterThan(0);
    }
    const actions = json.blocks.at(-1);
    expect(actions.type).toBe('actions');
    expect(actions.elements[0].text.text.length).toBeLessThanOrEqual(75);
    expect(actions.elements[0].text.text).toBe('View in Bytebase');
  },
  DISCORD(json) {
    expect(json.embeds).toHaveLength(1);
    const e = json.embeds[0];
    expect(e.title.length).toBeLessThanOrEqual(256);
    expect((e.description ?? '').length).toBeLessThanOrEqual(4096);
    expect(e.fields.length).toBeLessThanOrEqual(25);
    for (const f of e.fields) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
      expect(f.name.length).toBeGreaterThan(0);
      expect(f.value.length).toBeGreaterThan(0);
    }
    expect(e.author.name.length).toBeLessThanOrEqual(256);
    const total = e.title.length + (e.description ?? '').length + e.author.name.length + e.fields.reduce((n: number, f: Json) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(json).not.toHaveProperty('content');
    expect(typeof e.color).toBe('number');
  },
  TEAMS(json, body) {
    expect(utf8(body)).toBeLessThanOrEqual(28 * 1024);
    expect(json['@type'] ?? json.type).toMatch(/^(MessageCard|message)$/);
  },
  DINGTALK(json, body) {
    expect(utf8(body)).toBeLessThanOrEqual(20_000);
    expect(json.msgtype).toBe('markdown');
    expect(json.markdown.text).toMatch(/\n##### \[View in Bytebase\]\(https:\/\/herald\.example\.com\/issue\/add-index-users-42\)$/);
  },
  FEISHU(json, body) {
    expect(utf8(body)).toBeLessThanOrEqual(20 * 1000);
    expect(json.card.elements).toHaveLength(1);
    expect(json.card.elements[0].tag).toBe('markdown');
    expect(json.card.elements[0].content).toMatch(/\n\[View in Bytebase\]\(https:\/\/herald\.example\.com\/issue\/add-index-users-42\)$/);
    expect(json.card.header.template).toBe('red');
  },
  WECOM(json) {
    expect(utf8(json.markdown.content)).toBeLessThanOrEqual(4096);
    expect(json.markdown.content).toMatch(/^# <font color="warning">Error<\/font> /);
    expect(json.markdown.content).toMatch(/\n\[View in Bytebase\]\(https:\/\/herald\.example\.com\/issue\/add-index-users-42\)$/);
  },
};
limits.LARK = limits.FEISHU;
limits.GOOGLE_CHAT = (json, body) => {
  expect(utf8(body)).toBeLessThanOrEqual(32_000);
  expect(json.text.length).toBeLessThanOrEqual(4096);
  expect(json.cardsV2[0].card.sections.at(-1).widgets[0].buttonList.buttons[0].text).toBe('View in Bytebase');
};

const targets: [string, WebhookType, object][] = [
  ['SLACK', 'SLACK', {}],
  ['DISCORD', 'DISCORD', {}],
  ['TEAMS (MessageCard)', 'TEAMS', {}],
  ['TEAMS (Workflows)', 'TEAMS', { url: TEAMS_WORKFLOWS_URL }],
  ['DINGTALK (signed)', 'DINGTALK', { signingSecrets: ['SEC123'] }],
  ['FEISHU (signed)', 'FEISHU', { signingSecrets: ['s'] }],
  ['LARK', 'LARK', {}],
  ['WECOM', 'WECOM', {}],
  ['GOOGLE_CHAT', 'GOOGLE_CHAT', {}],
];

describe.each(targets)('%s with oversized texts', (_label, type, overrides) => {
  it.each(cases)('%s: within every limit, valid JSON, no lone surrogate', (_name, activity) => {
    const request = PROVIDERS[type].render(activity, hook(type, overrides), ctx);
    const json = JSON.parse(request.body);
    limits[type](json, request.body);
    // Discord's embed title is the link; every other chat message says it in words
    if (type === 'DISCORD') expect(JSON.parse(request.body).embeds[0].url).toBe('https://herald.example.com/issue/add-index-users-42');
    else expect(request.body).toContain('View in Bytebase');
    // JSON.stringify escapes lone surrogates as \udxxx: check the decoded strings and the raw body.
    expect(request.body).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
    const strings: string[] = [];
    JSON.parse(request.body, (_k, v) => (typeof v === 'string' && strings.push(v), v));
    for (const s of strings) expect(s).not.toMatch(LONE_SURROGATE);
  });
});

describe('shrinking order', () => {
  it('shrinks the description first and keeps the meta lines (Feishu)', () => {
    const request = PROVIDERS.FEISHU.render(huge('x'.repeat(100 * 1024), { meta: [{ name: 'Project Title', value: 'Demo' }] }), hook('FEISHU'), ctx);
    const content: string = JSON.parse(request.body).card.elements[0].content;
    expect(content).toMatch(/^x+…\n\*\*Project Title\*\*: Demo\n\*\*By\*\*: Alice Chen \(alice@example\.com\)\n\[View in Bytebase\]/);
    // Uses the room: within 20,000 bytes but not far below.
    expect(utf8(request.body)).toBeGreaterThan(19_900);
  });

  it('shrinks the description first and keeps the fields (Discord)', () => {
    const request = PROVIDERS.DISCORD.render(huge('y'.repeat(100 * 1024), { meta: [{ name: 'Issue', value: 'z'.repeat(1000) }] }), hook('DISCORD'), ctx);
    const embed = JSON.parse(request.body).embeds[0];
    expect(embed.fields).toEqual([{ name: 'Issue', value: 'z'.repeat(1000) }]);
    expect(embed.description).toMatch(/^y+…$/);
    expect(embed.description.length).toBe(4096);
  });

  it('cuts an emoji description between graphemes (WeCom)', () => {
    const request = PROVIDERS.WECOM.render(huge(FAMILY.repeat(1000), { meta: [] }), hook('WECOM'), ctx);
    const content: string = JSON.parse(request.body).markdown.content;
    const quoted = content.split('\n')[1];
    expect(quoted).toMatch(new RegExp(`^> (${FAMILY})+…$`, 'u'));
    expect(utf8(content)).toBeLessThanOrEqual(4096);
    expect(utf8(content)).toBeGreaterThan(4096 - 25 - 3);
  });

  it('leaves messages that fit untouched', () => {
    const activity = huge('short', {});
    const json = JSON.parse(PROVIDERS.DINGTALK.render(activity, hook('DINGTALK'), ctx).body);
    expect(json.markdown.text).toContain('> short\n');
    expect(json.markdown.text).not.toContain('…');
  });
});
