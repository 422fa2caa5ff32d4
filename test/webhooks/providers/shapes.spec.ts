import type { ActivityLevel } from '../../../src/webhooks/activity.js';
import { PROVIDERS, WEBHOOK_TYPES, normalizeWebhookType, providerFor, type WebhookType } from '../../../src/webhooks/providers/registry.js';
import { teamsCardKind } from '../../../src/webhooks/providers/teams.js';
import { ACTIVITIES, EVERY_ACTIVITY as ALL_ACTIVITIES, EVERY_CASE as ALL_CASES, TEAMS_WORKFLOWS_URL, ctx, hook, huge } from './activities.js';

/* Shapes a receiver checks, asserted independently of the golden files. */

type Json = any;

const at = (level: ActivityLevel) => ({ ...ACTIVITIES.taskCanceled, level });
const render = (type: WebhookType, level: ActivityLevel = 'INFO', overrides = {}) => {
  const request = PROVIDERS[type].render(at(level), hook(type, overrides), ctx);
  return { ...request, json: JSON.parse(request.body) as Json };
};

describe('the registry', () => {
  it('has one adapter per webhook type, of that type', () => {
    expect(Object.keys(PROVIDERS).sort()).toEqual([...WEBHOOK_TYPES].sort());
    for (const type of WEBHOOK_TYPES) expect(providerFor(type).type).toBe(type);
  });

  it('accepts each type and its aliases (Bytebase’s bb.plugin.webhook.<type>, any case) and nothing else', () => {
    for (const type of WEBHOOK_TYPES) {
      expect(normalizeWebhookType(type)).toBe(type);
      expect(PROVIDERS[type].aliases).toContain(`bb.plugin.webhook.${type.toLowerCase()}`);
      for (const alias of PROVIDERS[type].aliases) expect([normalizeWebhookType(alias), normalizeWebhookType(alias.toUpperCase())]).toEqual([type, type]);
    }
    expect(normalizeWebhookType('slack')).toBeUndefined();
    expect(normalizeWebhookType('bb.plugin.webhook.')).toBeUndefined();
    expect(normalizeWebhookType('toString')).toBeUndefined();
  });

  it.each(WEBHOOK_TYPES)('%s declares what validation, the API and the console read', (type) => {
    const p = PROVIDERS[type];
    expect(p.displayName).toMatch(/^\S/);
    const example = new URL(p.exampleUrl);
    expect(example.protocol).toBe('https:');
    if (p.hosts.length > 0) expect(p.hosts.some((h) => (h.startsWith('*.') ? example.hostname.endsWith(h.slice(1)) : example.hostname === h))).toBe(true);
    expect(p.checkUrl?.(example)).toBeUndefined();
    // the example the console shows is of a kind the service still takes
    expect(p.retiredUrl?.(example)).toBeUndefined();
    // the fixed, non-secret part of the path that a masked URL may show
    if (p.publicPathPrefixes !== undefined) expect(p.publicPathPrefixes.some((prefix) => (prefix.endsWith('/') ? example.pathname.startsWith(prefix) : example.pathname === prefix))).toBe(true);
  });

  it('refuses an unknown type', () => {
    expect(() => providerFor('toString' as WebhookType)).toThrow(/Unknown webhook type/);
  });

  it('declares the allowed hosts of providers.md', () => {
    expect(PROVIDERS.SLACK.hosts).toEqual(['hooks.slack.com', 'hooks.slack-gov.com']);
    expect(PROVIDERS.DISCORD.hosts).toEqual(['discord.com', 'discordapp.com']);
    expect(PROVIDERS.TEAMS.hosts).toEqual(['*.office.com', '*.office365.com', '*.powerplatform.com', '*.logic.azure.com']);
    expect(PROVIDERS.DINGTALK.hosts).toEqual(['oapi.dingtalk.com', 'api.dingtalk.com']);
    expect(PROVIDERS.FEISHU.hosts).toEqual(['open.feishu.cn']);
    expect(PROVIDERS.LARK.hosts).toEqual(['open.larksuite.com']);
    expect(PROVIDERS.WECOM.hosts).toEqual(['qyapi.weixin.qq.com']);
    expect(PROVIDERS.CUSTOM.hosts).toEqual([]);
  });

  it('declares the receivers\' limits of their documentation (issue 25)', () => {
    expect(PROVIDERS.SLACK.pace.limits).toEqual([{ count: 1, perMs: 1000 }]);
    expect(PROVIDERS.DISCORD.pace.limits).toEqual([
      { count: 5, perMs: 2000 },
      { count: 30, perMs: 60000 },
    ]);
    expect(PROVIDERS.TEAMS.pace.limits).toEqual([{ count: 4, perMs: 1000 }]);
    expect(PROVIDERS.DINGTALK.pace.limits).toEqual([{ count: 20, perMs: 60000 }]);
    for (const type of ['FEISHU', 'LARK'] as const) {
      expect(PROVIDERS[type].pace.limits).toEqual([
        { count: 5, perMs: 1000 },
        { count: 100, perMs: 60000 },
      ]);
    }
    expect(PROVIDERS.WECOM.pace.limits).toEqual([{ count: 20, perMs: 60000 }]);
    expect(PROVIDERS.GOOGLE_CHAT.pace.limits).toEqual([{ count: 60, perMs: 60000 }]);
    expect(PROVIDERS.CUSTOM.pace.limits).toEqual([]);
  });

  it.each([
    // the robot, bot or space the service counts by, whichever URL names it
    ['DINGTALK', 'https://oapi.dingtalk.com/robot/send?access_token=abc123', 'abc123'],
    ['DINGTALK', 'https://api.dingtalk.com/robot/send?access_token=abc123&x=1', 'abc123'],
    ['WECOM', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1', 'k-1'],
    ['FEISHU', 'https://open.feishu.cn/open-apis/bot/v2/hook/5f0c-11', '5f0c-11'],
    ['LARK', 'https://open.larksuite.com/open-apis/bot/v2/hook/5f0c-11', '5f0c-11'],
    ['GOOGLE_CHAT', 'https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t1', 'AAAA'],
    ['DISCORD', 'https://discordapp.com/api/webhooks/1234/token-abc', '1234'],
    ['DISCORD', 'https://discord.com/api/v10/webhooks/1234/token-def', '1234'],
    // no key in the URL: the whole URL is the receiver
    ['DINGTALK', 'https://oapi.dingtalk.com/robot/send', undefined],
    ['SLACK', 'https://hooks.slack.com/services/T/B/x', undefined],
    ['TEAMS', 'https://x.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/a/triggers/manual/paths/invoke?sig=s', undefined],
    ['CUSTOM', 'https://receiver.example.com/herald', undefined],
  ] as const)('counts a %s receiver at %s by %s', (type, url, identity) => {
    expect(PROVIDERS[type].pace.sharedBy?.(new URL(url))).toBe(identity);
  });

  it('checks the path of Discord URLs on Discord hosts', () => {
    const check = PROVIDERS.DISCORD.checkUrl!;
    expect(check(new URL('https://discord.com/api/webhooks/1/abc'))).toBeUndefined();
    expect(check(new URL('https://discordapp.com/api/webhooks/1/abc'))).toBeUndefined();
    expect(check(new URL('https://discord.com/channels/1/2'))).toMatch(/\/api\/webhooks\//);
    expect(check(new URL('https://discord.com/api/webhook/1'))).toMatch(/\/api\/webhooks\//);
  });
});

describe.each(WEBHOOK_TYPES)('every %s request', (type) => {
  it.each(ALL_CASES)('for %s is a JSON POST body with Content-Type application/json to the webhook URL', (name) => {
    const request = PROVIDERS[type].render(ALL_ACTIVITIES[name], hook(type), ctx);
    expect(request.headers['Content-Type']).toBe('application/json');
    expect(() => JSON.parse(request.body)).not.toThrow();
    expect(request.url).toBe(hook(type).url);
  });

  // Discord's embed title is the link itself (as in Bytebase); its body has no "View in" words
  if (type !== 'CUSTOM' && type !== 'DISCORD') {
    it.each(ALL_CASES)('for %s says "View in {brand}"', (name) => {
      const request = PROVIDERS[type].render(ALL_ACTIVITIES[name], hook(type), { ...ctx, brand: 'Acme Herald' });
      expect(request.body).toContain('View in Acme Herald');
      expect(request.body).not.toContain('View in Bytebase');
    });

    it('shows a failed task’s comment once, as its Result Detail', () => {
      const failed = { ...huge('lock timeout on users(email)'), meta: [{ name: 'Result Detail', value: 'lock timeout on users(email)' }], descriptionInMeta: true as const };
      const body = PROVIDERS[type].render(failed, hook(type), ctx).body;
      expect(body.split('lock timeout on users(email)').length - 1).toBe(1);
    });
  }
});

describe('Slack', () => {
  it('renders title, description in a code block, one section per meta line, By, and a button', () => {
    const { json } = render('SLACK', 'WARN');
    expect(json.text).toBe('Task canceled - db-prod-1');
    expect(json.blocks.map((b: Json) => b.type)).toEqual([...Array(10).fill('section'), 'actions']);
    for (const block of json.blocks.slice(0, -1)) expect(block.text.type).toBe('mrkdwn');
    const texts = json.blocks.slice(0, -1).map((b: Json) => b.text.text);
    expect(texts[0]).toBe('*:warning: Task canceled - db-prod-1*');
    expect(texts[1]).toBe('```Maintenance window closed```');
    expect(texts.slice(2, 9)).toEqual(ACTIVITIES.taskCanceled.meta.map((m) => `*${m.name}:* ${m.value}`));
    expect(texts[9]).toBe('By: Alice Chen (alice@example.com)');
    expect(json.blocks[10].elements).toEqual([
      { type: 'button', text: { type: 'plain_text', text: 'View in Bytebase' }, url: 'https://herald.example.com/issue/add-index-users-42' },
    ]);
  });

  it.each([
    ['INFO', '*Task canceled - db-prod-1*'],
    ['SUCCESS', '*:white_check_mark: Task canceled - db-prod-1*'],
    ['WARN', '*:warning: Task canceled - db-prod-1*'],
    ['ERROR', '*:exclamation: Task canceled - db-prod-1*'],
  ] as const)('titles %s as %s', (level, title) => {
    expect(render('SLACK', level).json.blocks[0].text.text).toBe(title);
  });

  it('leaves out the description section when there is none', () => {
    const json = JSON.parse(PROVIDERS.SLACK.render(ACTIVITIES.fieldUpdated, hook('SLACK'), ctx).body);
    expect(json.blocks[1].text.text).toBe('*Project Title:* Demo');
  });

  it('escapes mrkdwn control characters so user text cannot mention @here or forge links', () => {
    const json = JSON.parse(PROVIDERS.SLACK.render(ACTIVITIES.commentCreated, hook('SLACK'), ctx).body);
    expect(json.blocks[1].text.text).toBe('```LGTM &lt;@here&gt; &amp; ship it\nsecond line```');
  });
});

describe('Discord', () => {
  it.each([
    ['INFO', 0x1264a3, 'Task canceled - db-prod-1'],
    ['SUCCESS', 0x2eb67d, '\u2705 Task canceled - db-prod-1'],
    ['WARN', 0xecb22e, '\u26A0\uFE0F Task canceled - db-prod-1'],
    ['ERROR', 0xe01e5a, '\u2757 Task canceled - db-prod-1'],
  ] as const)('colors %s 0x%s', (level, color, title) => {
    const embed = render('DISCORD', level).json.embeds[0];
    expect(embed.color).toBe(color);
    expect(embed.title).toBe(title);
  });

  it('renders one embed with link, author, one field per meta line and the event time', () => {
    const { json } = render('DISCORD', 'WARN');
    expect(json.embeds).toHaveLength(1);
    // no content line: the embed's title links, and nothing in the message may ping anyone
    expect(Object.keys(json)).toEqual(['embeds', 'allowed_mentions']);
    expect(json.allowed_mentions).toEqual({ parse: [] });
    expect(json.embeds[0]).toEqual({
      title: '\u26A0\uFE0F Task canceled - db-prod-1',
      description: 'Maintenance window closed',
      url: 'https://herald.example.com/issue/add-index-users-42',
      color: 0xecb22e,
      author: { name: 'Alice Chen (alice@example.com)' },
      fields: ACTIVITIES.taskCanceled.meta.map((m) => ({ name: m.name, value: m.value })),
      timestamp: '2026-05-01T09:30:00.000Z',
    });
  });

  it('has no description key when the activity has none', () => {
    const json = JSON.parse(PROVIDERS.DISCORD.render(ACTIVITIES.fieldUpdated, hook('DISCORD'), ctx).body);
    expect(json.embeds[0]).not.toHaveProperty('description');
  });

  it('never sends an empty field value (Discord refuses them)', () => {
    const activity = { ...ACTIVITIES.taskCanceled, meta: [{ name: 'Issue Description', value: '' }] };
    const json = JSON.parse(PROVIDERS.DISCORD.render(activity, hook('DISCORD'), ctx).body);
    expect(json.embeds[0].fields[0].value.length).toBeGreaterThan(0);
  });
});

describe('Teams', () => {
  it.each([
    ['https://contoso.webhook.office.com/webhookb2/x', 'MessageCard'],
    ['https://outlook.office365.com/webhook/x', 'MessageCard'],
    ['https://prod-01.westeurope.logic.azure.com:443/workflows/x', 'AdaptiveCard'],
    ['https://default123.environment.api.powerplatform.com/powerautomate/x', 'AdaptiveCard'],
    ['http://127.0.0.1:8080/teams', 'AdaptiveCard'],
  ])('chooses the card for %s: %s', (url, kind) => {
    expect(teamsCardKind(url)).toBe(kind);
  });

  it.each([
    ['INFO', '1264A3'],
    ['SUCCESS', '2EB67D'],
    ['WARN', 'ECB22E'],
    ['ERROR', 'E01E5A'],
  ] as const)('sends a legacy MessageCard, %s themed %s', (level, color) => {
    const { json } = render('TEAMS', level);
    expect(json).toEqual({
      '@type': 'MessageCard',
      '@context': 'https://schema.org/extensions',
      summary: 'Task canceled - db-prod-1',
      themeColor: color,
      title: 'Task canceled - db-prod-1',
      sections: [
        {
          activityTitle: 'Alice Chen (alice@example.com)',
          facts: ACTIVITIES.taskCanceled.meta.map((m) => ({ name: m.name, value: m.value })),
          text: 'Maintenance window closed',
        },
      ],
      potentialAction: [{ '@type': 'OpenUri', name: 'View in Bytebase', targets: [{ os: 'default', uri: 'https://herald.example.com/issue/add-index-users-42' }] }],
    });
  });

  it('sends a Workflows message with an Adaptive Card 1.4', () => {
    const { json } = render('TEAMS', 'ERROR', { url: TEAMS_WORKFLOWS_URL });
    expect(json.type).toBe('message');
    expect(json.attachments).toHaveLength(1);
    expect(json.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = json.attachments[0].content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(card.body).toEqual([
      { type: 'TextBlock', text: 'Task canceled - db-prod-1', weight: 'Bolder', wrap: true },
      { type: 'TextBlock', text: 'Maintenance window closed', wrap: true },
      { type: 'FactSet', facts: [...ACTIVITIES.taskCanceled.meta.map((m) => ({ title: m.name, value: m.value })), { title: 'Actor', value: 'Alice Chen (alice@example.com)' }] },
    ]);
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'View in Bytebase', url: 'https://herald.example.com/issue/add-index-users-42' }]);
  });
});

describe('DingTalk', () => {
  it('renders markdown with title, quote, meta, By and the link', () => {
    const { json } = render('DINGTALK', 'WARN');
    expect(json.msgtype).toBe('markdown');
    expect(json.markdown.title).toBe('Task canceled - db-prod-1');
    expect(json.markdown.text.split('\n')).toEqual([
      '# Task canceled - db-prod-1',
      '> Maintenance window closed',
      ...ACTIVITIES.taskCanceled.meta.map((m) => `##### **${m.name}:** ${m.value}`),
      '##### **By:** Alice Chen (alice@example.com)',
      '##### [View in Bytebase](https://herald.example.com/issue/add-index-users-42)',
    ]);
  });

  it('leaves the URL alone without a signing secret', () => {
    expect(render('DINGTALK').url).toBe(hook('DINGTALK').url);
  });
});

describe.each(['FEISHU', 'LARK'] as const)('%s', (type) => {
  it.each([
    ['INFO', 'blue'],
    ['SUCCESS', 'green'],
    ['WARN', 'orange'],
    ['ERROR', 'red'],
  ] as const)('templates %s %s', (level, template) => {
    expect(render(type, level).json.card.header).toEqual({ title: { tag: 'plain_text', content: 'Task canceled - db-prod-1' }, template });
  });

  it('renders an interactive card with one markdown element', () => {
    const { json } = render(type, 'WARN');
    expect(json).not.toHaveProperty('timestamp');
    expect(json).not.toHaveProperty('sign');
    expect(json.msg_type).toBe('interactive');
    expect(json.card.config).toEqual({ wide_screen_mode: true, enable_forward: true });
    expect(json.card.elements).toEqual([
      {
        tag: 'markdown',
        content: [
          'Maintenance window closed',
          ...ACTIVITIES.taskCanceled.meta.map((m) => `**${m.name}**: ${m.value}`),
          '**By**: Alice Chen (alice@example.com)',
          '[View in Bytebase](https://herald.example.com/issue/add-index-users-42)',
        ].join('\n'),
      },
    ]);
  });
});

describe('WeCom', () => {
  it.each([
    ['INFO', '# Task canceled - db-prod-1'],
    ['SUCCESS', '# <font color="info">Success</font> Task canceled - db-prod-1'],
    ['WARN', '# <font color="warning">Warn</font> Task canceled - db-prod-1'],
    ['ERROR', '# <font color="warning">Error</font> Task canceled - db-prod-1'],
  ] as const)('prefixes %s titles: %s', (level, first) => {
    const { json } = render('WECOM', level);
    expect(json.msgtype).toBe('markdown');
    expect(json.markdown.content.split('\n')[0]).toBe(first);
  });

  it('renders the content lines of providers.md', () => {
    expect(render('WECOM').json.markdown.content.split('\n')).toEqual([
      '# Task canceled - db-prod-1',
      '> Maintenance window closed',
      '',
      ...ACTIVITIES.taskCanceled.meta.map((m) => `${m.name}: <font color="comment">${m.value}</font>`),
      'By: <font color="comment">Alice Chen (alice@example.com)</font>',
      '[View in Bytebase](https://herald.example.com/issue/add-index-users-42)',
    ]);
  });
});
