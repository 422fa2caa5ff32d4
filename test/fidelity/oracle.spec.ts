import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDERS, type WebhookType } from '../../src/webhooks/providers/registry.js';
import type { Activity } from '../../src/webhooks/activity.js';
import { PINGS } from '../support/pings.js';
import { ACTIVITIES, APPROVAL_ACTIVITIES, APPROVAL_CASES, CASES, TEAMS_WORKFLOWS_URL, ctx, hook } from '../webhooks/providers/activities.js';
import { diffJson, type Difference } from './diff.js';

/*
 * The oracle: for each provider and each activity, the request Bytebase 1.12 would send (fixtures
 * written from its webhook builders, plugin/webhook/*.go at tag 1.12.0) against the one Herald
 * renders, key by key (arrays and multi-line texts aligned element by element). Every difference
 * must match a rule of differences.json, and every rule must be explained in docs/fidelity.md:
 * a difference nobody listed fails here.
 */

type Json = any;

interface Rule {
  id: string;
  /** Suites (provider files) it applies to; ['*'] for all. */
  suites: string[];
  /** `moved`: the Bytebase value at `path` is moved to `to` before comparing (a renamed key). */
  op: Difference['op'] | 'moved';
  /** The difference's path, `*` matching any run of characters. */
  path: string;
  to?: string;
  /** Regular expressions the values must match (the JSON text of non-strings). */
  bytebase?: string;
  herald?: string;
}

const fixtures = 'test/fidelity/bytebase-1.12';
const rules: Rule[] = JSON.parse(readFileSync('test/fidelity/differences.json', 'utf8'));
const doc = readFileSync('docs/fidelity.md', 'utf8');

/** The suites: Herald's renderer for a type and URL, and the Bytebase 1.12 fixture it answers to. */
const SUITES: { suite: string; type: WebhookType; fixture: string; url?: string }[] = [
  { suite: 'slack', type: 'SLACK', fixture: 'slack.json' },
  { suite: 'discord', type: 'DISCORD', fixture: 'discord.json' },
  { suite: 'teams-messagecard', type: 'TEAMS', fixture: 'teams.json' },
  // Bytebase 1.12 knew no Workflows: it sent its MessageCard to every Teams URL
  { suite: 'teams-workflows', type: 'TEAMS', fixture: 'teams.json', url: TEAMS_WORKFLOWS_URL },
  { suite: 'dingtalk', type: 'DINGTALK', fixture: 'dingtalk.json' },
  { suite: 'feishu', type: 'FEISHU', fixture: 'feishu.json' },
  // Bytebase 1.12 had no Lark type; later versions send Lark the Feishu card
  { suite: 'lark', type: 'LARK', fixture: 'feishu.json' },
  { suite: 'wecom', type: 'WECOM', fixture: 'wecom.json' },
  // Google Chat came in Bytebase 3.18: its oracle is that builder
  { suite: 'google-chat', type: 'GOOGLE_CHAT', fixture: '../bytebase-3.18/google-chat.json' },
  { suite: 'custom', type: 'CUSTOM', fixture: 'custom.json' },
];

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Applies the suite's `moved` rules to a Bytebase body; returns the ids of those that moved something. */
function move(suite: string, value: { body: Json }): string[] {
  const moved: string[] = [];
  for (const rule of rules.filter((r) => r.op === 'moved' && (r.suites.includes('*') || r.suites.includes(suite)))) {
    const from = rule.path.split('.');
    const parents = [value as Json];
    for (const key of from.slice(0, -1)) parents.push(parents.at(-1)?.[key]);
    const holder = parents.at(-1);
    if (!holder || !(from.at(-1)! in holder)) continue;
    const taken = holder[from.at(-1)!];
    delete holder[from.at(-1)!];
    // a container left empty goes too
    for (let i = parents.length - 1; i > 0 && Object.keys(parents[i]).length === 0; i--) delete parents[i - 1][from[i - 1]];
    const to = rule.to!.split('.');
    let target = value as Json;
    for (const key of to.slice(0, -1)) target = target[key] ??= {};
    target[to.at(-1)!] = taken;
    moved.push(rule.id);
  }
  return moved;
}

function matches(rule: Rule, suite: string, d: Difference): boolean {
  return (
    (rule.suites.includes('*') || rule.suites.includes(suite)) &&
    rule.op === d.op &&
    glob(rule.path).test(d.path) &&
    (rule.bytebase === undefined || new RegExp(rule.bytebase, 's').test(text(d.bytebase))) &&
    (rule.herald === undefined || new RegExp(rule.herald, 's').test(text(d.herald)))
  );
}

/** Every difference of one suite, case by case. */
const movedIds = new Set<string>();

function differences(suite: (typeof SUITES)[number]): { name: string; d: Difference }[] {
  const expected: Record<string, { headers: Record<string, string>; body: Json }> = JSON.parse(readFileSync(join(fixtures, suite.fixture), 'utf8'));
  return CASES.flatMap((name) => {
    const request = PROVIDERS[suite.type].render(ACTIVITIES[name], hook(suite.type, suite.url ? { url: suite.url } : {}), ctx);
    const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    const bytebase = { headers: lower(expected[name].headers), body: expected[name].body };
    for (const id of move(suite.suite, bytebase)) movedIds.add(id);
    const herald = { headers: lower(request.headers), body: JSON.parse(request.body) };
    return diffJson(bytebase, herald).map((d) => ({ name, d }));
  });
}

/*
 * The approval and rollout activities against Bytebase 3.21.1 (fixture: what its webhook context
 * says for the same scenario, and how its group messages mention): compared as activities (name,
 * level, title, description, link, actor, meta lines) and mentions (whom, and what DingTalk, Slack,
 * Feishu/Lark and WeCom group messages ping), not as layouts.
 */
const APPROVAL_SUITE = 'activities-3.21';

function asActivity(activity: Activity) {
  const body = (type: 'DINGTALK' | 'SLACK' | 'FEISHU' | 'WECOM') => JSON.parse(PROVIDERS[type].render(activity, hook(type), ctx).body);
  const dingtalk = body('DINGTALK');
  const last: string = dingtalk.markdown.text.split('\n').at(-1);
  return {
    activity: activity.type,
    level: activity.level,
    title: activity.title,
    description: activity.description,
    link: activity.link,
    actor: `${activity.actor.name} (${activity.actor.email})`,
    meta: Object.fromEntries(activity.meta.map((m) => [m.name, m.value])),
    mentions: {
      people: (activity.mentions ?? []).map((m) => m.email),
      dingtalk: { text: last.startsWith('@') ? last : '', at: dingtalk.at ?? null },
      slack: PINGS.SLACK(body('SLACK')),
      feishu: PINGS.FEISHU(body('FEISHU')),
      wecom: PINGS.WECOM(body('WECOM')),
    },
  };
}

function approvalDifferences(): { name: string; d: Difference }[] {
  const expected: Record<string, Json> = JSON.parse(readFileSync('test/fidelity/bytebase-3.21/activities.json', 'utf8'));
  return APPROVAL_CASES.flatMap((name) => diffJson(expected[name], asActivity(APPROVAL_ACTIVITIES[name])).map((d) => ({ name, d })));
}

const all = [...SUITES.map((s) => ({ suite: s.suite, found: differences(s) })), { suite: APPROVAL_SUITE, found: approvalDifferences() }];

describe('Herald against Bytebase 3.21: the approval and rollout activities', () => {
  const found = all.find((s) => s.suite === APPROVAL_SUITE)!.found;

  it('has a fixture for every approval and rollout activity', () => {
    const fixture = JSON.parse(readFileSync('test/fidelity/bytebase-3.21/activities.json', 'utf8'));
    expect(Object.keys(fixture).filter((k) => !k.startsWith('_')).sort()).toEqual([...APPROVAL_CASES].sort());
  });

  it('differs only where docs/fidelity.md says why', () => {
    const unlisted = found.filter(({ d }) => !rules.some((rule) => matches(rule, APPROVAL_SUITE, d)));
    expect(unlisted.map(({ name, d }) => `${name}: ${d.op} ${d.path} ${JSON.stringify(d.bytebase)?.slice(0, 120)} → ${JSON.stringify(d.herald)?.slice(0, 120)}`)).toEqual([]);
  });
});

describe.each(all.filter((s) => s.suite !== APPROVAL_SUITE))('Herald against Bytebase 1.12: $suite', ({ suite, found }) => {
  it('has a fixture for every activity', () => {
    const fixture = JSON.parse(readFileSync(join(fixtures, SUITES.find((s) => s.suite === suite)!.fixture), 'utf8'));
    expect(Object.keys(fixture).sort()).toEqual([...CASES].sort());
  });

  it('differs only where docs/fidelity.md says why', () => {
    const unlisted = found.filter(({ d }) => !rules.some((rule) => matches(rule, suite, d)));
    expect(unlisted.map(({ name, d }) => `${name}: ${d.op} ${d.path} ${JSON.stringify(d.bytebase)?.slice(0, 120)} → ${JSON.stringify(d.herald)?.slice(0, 120)}`)).toEqual([]);
  });
});

it('explains every rule in docs/fidelity.md, and every rule still matches a difference', () => {
  const ids = new Set(rules.map((r) => r.id));
  const documented = new Set([...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]));
  expect([...ids].filter((id) => !documented.has(id))).toEqual([]);
  expect([...documented].filter((id) => !ids.has(id))).toEqual([]);
  // a rule that matches nothing any more is stale: remove it (and its line in the document)
  const stale = rules.filter((rule) => (rule.op === 'moved' ? !movedIds.has(rule.id) : !all.some(({ suite, found }) => found.some(({ d }) => matches(rule, suite, d)))));
  expect(stale.map((r) => `${r.id} ${r.op} ${r.path}`)).toEqual([]);
});
