import type { Verdict } from '../../../src/webhooks/providers/provider.js';
import { PROVIDERS, normalizeWebhookType } from '../../../src/webhooks/providers/registry.js';
import { ACTIVITIES, LONE_SURROGATE, NOW, at, ctx, hook, huge, response, utf8 } from './activities.js';

/* Google Chat (incoming webhook, as Bytebase added it in 3.18): its card, its limits, its judge, its URLs. */

type Json = any;
const GOOGLE_CHAT = PROVIDERS.GOOGLE_CHAT;
const render = (activity = ACTIVITIES.taskCanceled, brand = 'Bytebase') => JSON.parse(GOOGLE_CHAT.render(activity, hook('GOOGLE_CHAT'), { ...ctx, brand }).body) as Json;
const judge = (status: number, body = '', headers: Record<string, string> = {}): Verdict => GOOGLE_CHAT.judge(response(status, body, headers), { now: NOW });

describe('Google Chat in the registry', () => {
  it('is GOOGLE_CHAT, also bb.plugin.webhook.google_chat, on chat.googleapis.com at 60 messages a minute per space', () => {
    expect([normalizeWebhookType('GOOGLE_CHAT'), normalizeWebhookType('bb.plugin.webhook.google_chat')]).toEqual(['GOOGLE_CHAT', 'GOOGLE_CHAT']);
    expect(GOOGLE_CHAT).toMatchObject({ displayName: 'Google Chat', hosts: ['chat.googleapis.com'], publicPathPrefixes: ['/v1/spaces/'], customHeaders: false, pace: { limits: [{ count: 60, perMs: 60_000 }] } });
    expect(GOOGLE_CHAT.signingSecret).toBeUndefined();
  });

  it.each([
    ['https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t', undefined],
    ['https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k', /key and token/],
    ['https://chat.googleapis.com/v1/spaces/AAAA/messages?token=t', /key and token/],
    ['https://chat.googleapis.com/v1/spaces/AAAA?key=k&token=t', /\/v1\/spaces\/\{space\}\/messages/],
    ['https://chat.googleapis.com/v1/spaces//messages?key=k&token=t', /\/v1\/spaces\/\{space\}\/messages/],
    ['https://chat.googleapis.com/v2/spaces/A/messages?key=k&token=t', /\/v1\/spaces\/\{space\}\/messages/],
    // an operator-added host (an emulator) keeps its own paths
    ['http://127.0.0.1:9000/anything', undefined],
  ])('checks %s', (url, problem) => {
    const message = GOOGLE_CHAT.checkUrl!(new URL(url));
    if (problem === undefined) expect(message).toBeUndefined();
    else expect(message).toMatch(problem);
  });
});

describe('Google Chat message', () => {
  it('is a cardsV2 card (header: title and actor; the description; one decoratedText per meta line; a View button) with a plain text fallback', () => {
    const body = render();
    expect(body).toEqual({
      text: 'Task canceled - db-prod-1',
      cardsV2: [
        {
          cardId: 'herald',
          card: {
            header: { title: '⚠️ Task canceled - db-prod-1', subtitle: 'Alice Chen (alice@example.com)' },
            sections: [
              { widgets: [{ textParagraph: { text: 'Maintenance window closed' } }] },
              { widgets: ACTIVITIES.taskCanceled.meta.map((m) => ({ decoratedText: { topLabel: m.name, text: m.value } })) },
              { widgets: [{ buttonList: { buttons: [{ text: 'View in Bytebase', onClick: { openLink: { url: 'https://herald.example.com/issue/add-index-users-42' } } }] } }] },
            ],
          },
        },
      ],
    });
  });

  it.each([
    ['INFO', ''],
    ['SUCCESS', '✅ '],
    ['WARN', '⚠️ '],
    ['ERROR', '❗ '],
  ] as const)('marks %s titles with %j', (level, emoji) => {
    expect(render({ ...ACTIVITIES.taskCanceled, level }).cardsV2[0].card.header.title).toBe(`${emoji}Task canceled - db-prod-1`);
  });

  it('leaves out the description section when there is none, and says View in {brand}', () => {
    const sections = render(ACTIVITIES.fieldUpdated, 'Acme').cardsV2[0].card.sections;
    expect(sections).toHaveLength(2);
    expect(sections[1].widgets[0].buttonList.buttons[0].text).toBe('View in Acme');
  });

  it('escapes user text in card texts (Google Chat formats a subset of HTML) and breaks <users/all> everywhere', () => {
    const body = render({ ...ACTIVITIES.commentCreated, title: 'Hi <users/all> <b>x</b>', description: '<users/all> & <a href="https://evil.example">x</a>' });
    expect(body.cardsV2[0].card.sections[0].widgets[0].textParagraph.text).toBe('&lt;users/all&gt; &amp; &lt;a href="https://evil.example"&gt;x&lt;/a&gt;');
    expect(body.text).toBe('Hi <\u200Busers/all> <b>x</b>');
    expect(JSON.stringify(body)).not.toMatch(/<users\//);
  });

  it('keeps text within 4,096 characters and the whole message within 32,000 bytes, shrinking the description first', () => {
    for (const filler of ['x'.repeat(100 * 1024), '审计👩‍👩‍👧‍👦e\u0301<&>'.repeat(8_000)]) {
      for (const activity of [huge(filler), huge(filler, { title: filler, actor: { id: 9, name: filler, email: 'x@example.com' } })]) {
        const request = GOOGLE_CHAT.render(activity, hook('GOOGLE_CHAT'), ctx);
        const body = JSON.parse(request.body);
        expect(utf8(request.body)).toBeLessThanOrEqual(32_000);
        expect(body.text.length).toBeLessThanOrEqual(4096);
        expect(request.body).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
        for (const s of JSON.stringify(body).split('"')) expect(s).not.toMatch(LONE_SURROGATE);
        expect(request.body).toContain('View in Bytebase');
      }
    }
    // a long description alone is cut, the meta lines kept whole
    const cut = render({ ...ACTIVITIES.taskCanceled, description: 'y'.repeat(100 * 1024) });
    expect(cut.cardsV2[0].card.sections[0].widgets[0].textParagraph.text).toMatch(/^y{20000,}…$/);
    expect(cut.cardsV2[0].card.sections[1].widgets).toHaveLength(ACTIVITIES.taskCanceled.meta.length);
  });
});

describe('Google Chat answers', () => {
  it.each([200, 202])('%i → delivered', (status) => {
    expect(judge(status, JSON.stringify({ name: 'spaces/AAAA/messages/x' }))).toEqual({ kind: 'delivered' });
  });

  it('429 → retry after Retry-After', () => {
    expect(judge(429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}', { 'retry-after': '30' })).toEqual({ kind: 'retry', reason: expect.stringContaining('429'), notBefore: at(30_000) });
  });

  it.each([500, 503])('%i → retry', (status) => {
    expect(judge(status).kind).toBe('retry');
  });

  it('400 → failed, named as Herald’s bug, endpoint kept', () => {
    expect(judge(400, '{"error":{"code":400,"status":"INVALID_ARGUMENT"}}')).toEqual({ kind: 'failed', reason: expect.stringContaining('a bug in the Google Chat adapter') });
  });

  it.each([401, 403, 404])('%i → failed (counts toward disabling)', (status) => {
    const verdict = judge(status, '{"error":{}}');
    expect(verdict.kind).toBe('failed');
    expect(verdict).not.toHaveProperty('disable');
  });
});
