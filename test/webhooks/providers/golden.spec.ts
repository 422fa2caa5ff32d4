import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderAdapter, WebhookTarget } from '../../../src/webhooks/providers/provider.js';
import { PROVIDERS } from '../../../src/webhooks/providers/registry.js';
import { ACTIVITIES, EVERY_ACTIVITY as ALL_ACTIVITIES, EVERY_CASE as ALL_CASES, TEAMS_WORKFLOWS_URL, ctx, hook } from './activities.js';

/*
 * Golden files: the exact request each provider renders for each representative activity. They
 * were generated once (HERALD_UPDATE_GOLDEN=1), read against providers.md, and frozen; a change in
 * any byte of a body (key order included), a header or the URL fails here.
 */

const folder = 'test/webhooks/providers/golden';
const update = process.env.HERALD_UPDATE_GOLDEN === '1';

interface Golden {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const suites: { file: string; adapter: ProviderAdapter; target: WebhookTarget; signed?: WebhookTarget }[] = [
  { file: 'slack.json', adapter: PROVIDERS.SLACK, target: hook('SLACK') },
  { file: 'discord.json', adapter: PROVIDERS.DISCORD, target: hook('DISCORD') },
  { file: 'teams-messagecard.json', adapter: PROVIDERS.TEAMS, target: hook('TEAMS') },
  { file: 'teams-workflows.json', adapter: PROVIDERS.TEAMS, target: hook('TEAMS', { url: TEAMS_WORKFLOWS_URL }) },
  { file: 'dingtalk.json', adapter: PROVIDERS.DINGTALK, target: hook('DINGTALK'), signed: hook('DINGTALK', { signingSecrets: ['SEC0123456789abcdef'] }) },
  { file: 'feishu.json', adapter: PROVIDERS.FEISHU, target: hook('FEISHU'), signed: hook('FEISHU', { signingSecrets: ['feishu-secret'] }) },
  { file: 'lark.json', adapter: PROVIDERS.LARK, target: hook('LARK'), signed: hook('LARK', { signingSecrets: ['lark-secret'] }) },
  { file: 'wecom.json', adapter: PROVIDERS.WECOM, target: hook('WECOM') },
  { file: 'google-chat.json', adapter: PROVIDERS.GOOGLE_CHAT, target: hook('GOOGLE_CHAT') },
  {
    file: 'custom.json',
    adapter: PROVIDERS.CUSTOM,
    target: hook('CUSTOM', { headers: { 'X-Team': 'db' } }),
    signed: hook('CUSTOM', { signingSecrets: [SECRET], headers: { 'X-Team': 'db' } }),
  },
];

function renderAll(adapter: ProviderAdapter, target: WebhookTarget, signed?: WebhookTarget): Record<string, Golden> {
  const out: Record<string, Golden> = {};
  for (const name of ALL_CASES) {
    const request = adapter.render(ALL_ACTIVITIES[name], target, ctx);
    out[name] = { url: request.url, headers: request.headers, body: JSON.parse(request.body) };
  }
  if (signed) {
    const request = adapter.render(ACTIVITIES.taskCanceled, signed, ctx);
    out.signed = { url: request.url, headers: request.headers, body: JSON.parse(request.body) };
  }
  return out;
}

describe.each(suites)('golden requests: $file', ({ file, adapter, target, signed }) => {
  const path = join(folder, file);
  const rendered = renderAll(adapter, target, signed);

  if (update) {
    it('writes the golden file', () => {
      writeFileSync(path, JSON.stringify(rendered, null, 2) + '\n');
    });
    return;
  }

  it('has a golden file', () => {
    expect(existsSync(path)).toBe(true);
  });
  const golden: Record<string, Golden> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};

  it('covers the same cases', () => {
    expect(Object.keys(rendered).sort()).toEqual(Object.keys(golden).sort());
  });

  it.each(Object.keys(rendered))('renders %s byte for byte', (name) => {
    const request = name === 'signed' ? adapter.render(ACTIVITIES.taskCanceled, signed!, ctx) : adapter.render(ALL_ACTIVITIES[name as keyof typeof ALL_ACTIVITIES], target, ctx);
    expect(golden[name]).toBeDefined();
    expect(request.url).toBe(golden[name].url);
    expect(request.headers).toEqual(golden[name].headers);
    // The body string itself: same keys in the same order, same escapes.
    expect(request.body).toBe(JSON.stringify(golden[name].body));
  });
});
