import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDERS, type WebhookType } from '../../src/webhooks/providers/registry.js';
import type { Activity } from '../../src/webhooks/activity.js';
import { PINGS } from '../support/pings.js';
import { ACTIVITIES, CASES, TEAMS_WORKFLOWS_URL, ctx, hook } from '../webhooks/providers/activities.js';
import { bytebaseInput, oracleCases, SENT_AT } from './bytebase-1.12/cases.js';
import { diffJson, type Difference } from './diff.js';
import { mapStream, type StoredEvent } from './stream-activities.js';

/*
 * The oracle. For each provider and each activity, the request Bytebase sends against the one
 * Herald renders, key by key (arrays and multi-line texts aligned element by element):
 * - Bytebase 1.12: bodies its own webhook package posted (bytebase-1.12/, regenerate.sh) for every
 *   seed activity of Herald's recorded log, mapped as 1.12 mapped them (titles and levels included);
 * - Google Chat: Bytebase 3.18's builder, read (bytebase-3.18/);
 * - the approval and rollout activities: what Bytebase 3.21.1 says of them, read (bytebase-3.21/).
 * Every difference must match a rule of differences.json, and every rule must be explained in
 * docs/fidelity.md and still match something: a difference nobody listed fails here, and so does
 * a listed one that no longer occurs.
 */

type Json = any;

interface Rule {
  id: string;
  /** Suites (provider files) it applies to; ['*'] for all. */
  suites: string[];
  /**
   * A difference (`added`, `removed`, `changed`), or what Bytebase's body goes through before
   * comparing: `moved` (the value at `path` moves to `to`: a renamed key), `escaped` (every string
   * at `path` goes through the escape `escape`, as Herald writes user text for that service).
   */
  op: Difference['op'] | 'moved' | 'escaped';
  /** The difference's path, `*` matching any run of characters. */
  path: string;
  to?: string;
  escape?: keyof typeof ESCAPES;
  /** Regular expressions the values must match (the JSON text of non-strings); `{str}` is a JSON string's content. */
  bytebase?: string;
  herald?: string;
}

/** How Herald writes user text for a service, stated here as each service documents its markup. */
const ESCAPES = {
  /** Slack mrkdwn, Feishu/Lark card markdown: the three characters as HTML entities. */
  entities: (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  /** WeCom: a zero-width space after the `<` of `<@…>`. */
  'wecom-mention': (s: string) => s.replace(/<(?=@)/g, '<\u200b'),
  /** Teams: a zero-width space after the `<` of `<at`. */
  'teams-mention': (s: string) => s.replace(/<(?=\s*at\b)/gi, '<\u200b'),
};

const MACROS: Record<string, string> = { '{str}': '(?:[^"\\\\]|\\\\.)*' };
const compile = (source: string) => new RegExp(source.replace(/\{str\}/g, MACROS['{str}']), 's');

const rules: Rule[] = JSON.parse(readFileSync('test/fidelity/differences.json', 'utf8'));
const doc = readFileSync('docs/fidelity.md', 'utf8');

/** The suites: Herald's renderer for a type and URL, and the Bytebase fixture it answers to. */
const SUITES: { suite: string; type: WebhookType; fixture: string; url?: string }[] = [
  { suite: 'slack', type: 'SLACK', fixture: 'bytebase-1.12/slack.json' },
  { suite: 'discord', type: 'DISCORD', fixture: 'bytebase-1.12/discord.json' },
  { suite: 'teams-messagecard', type: 'TEAMS', fixture: 'bytebase-1.12/teams.json' },
  // Bytebase 1.12 knew no Workflows: it sent its MessageCard to every Teams URL
  { suite: 'teams-workflows', type: 'TEAMS', fixture: 'bytebase-1.12/teams.json', url: TEAMS_WORKFLOWS_URL },
  { suite: 'dingtalk', type: 'DINGTALK', fixture: 'bytebase-1.12/dingtalk.json' },
  { suite: 'feishu', type: 'FEISHU', fixture: 'bytebase-1.12/feishu.json' },
  // Bytebase 1.12 had no Lark type; later versions send Lark the Feishu card
  { suite: 'lark', type: 'LARK', fixture: 'bytebase-1.12/feishu.json' },
  { suite: 'wecom', type: 'WECOM', fixture: 'bytebase-1.12/wecom.json' },
  // Google Chat came in Bytebase 3.18: its oracle is that builder, over the hand-made activities
  { suite: 'google-chat', type: 'GOOGLE_CHAT', fixture: 'bytebase-3.18/google-chat.json' },
  { suite: 'custom', type: 'CUSTOM', fixture: 'bytebase-1.12/custom.json' },
];

const ORACLE = oracleCases();
/** The activities a suite renders: Herald's recorded ones for 1.12, the hand-made ones for 3.18's Google Chat. */
const casesOf = (fixture: string): { name: string; activity: Activity; now: Date }[] =>
  fixture.startsWith('bytebase-1.12/') ? ORACLE.map((c) => ({ name: c.name, activity: c.herald, now: SENT_AT })) : CASES.map((name) => ({ name, activity: ACTIVITIES[name], now: ctx.now }));

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
const applies = (rule: Rule, suite: string) => rule.suites.includes('*') || rule.suites.includes(suite);

/** Transforms that moved or escaped something, by rule index: a transform that changes nothing is stale. */
const used = new Set<number>();

/** Applies the suite's `moved` rules to a Bytebase request. */
function move(suite: string, value: { body: Json }): void {
  for (const [index, rule] of rules.entries()) {
    if (rule.op !== 'moved' || !applies(rule, suite)) continue;
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
    used.add(index);
  }
}

/** Applies the suite's `escaped` rules to every string of a Bytebase request at their paths (`[]` for array items). */
function escape(suite: string, value: Json): Json {
  const active = [...rules.entries()].filter(([, r]) => r.op === 'escaped' && applies(r, suite)).map(([i, r]) => ({ i, r, path: glob(r.path) }));
  const walk = (v: Json, path: string): Json => {
    if (typeof v === 'string') {
      let out = v;
      for (const { i, r, path: p } of active) {
        if (!p.test(path)) continue;
        const escaped = ESCAPES[r.escape!](out);
        if (escaped !== out) used.add(i);
        out = escaped;
      }
      return out;
    }
    if (Array.isArray(v)) return v.map((item) => walk(item, `${path}[]`));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, path ? `${path}.${k}` : k)]));
    return v;
  };
  return walk(value, '');
}

function matches(rule: Rule, suite: string, d: Difference): boolean {
  return (
    applies(rule, suite) &&
    rule.op === d.op &&
    glob(rule.path).test(d.path) &&
    (rule.bytebase === undefined || compile(rule.bytebase).test(text(d.bytebase))) &&
    (rule.herald === undefined || compile(rule.herald).test(text(d.herald)))
  );
}

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** Every difference of one suite, case by case. */
function differences(suite: (typeof SUITES)[number]): { name: string; d: Difference }[] {
  const expected: Record<string, { headers: Record<string, string>; body: Json }> = JSON.parse(readFileSync(join('test/fidelity', suite.fixture), 'utf8'));
  return casesOf(suite.fixture).flatMap(({ name, activity, now }) => {
    const request = PROVIDERS[suite.type].render(activity, hook(suite.type, suite.url ? { url: suite.url } : {}), { ...ctx, now });
    const bytebase = escape(suite.suite, { headers: lower(expected[name].headers), body: structuredClone(expected[name].body) });
    move(suite.suite, bytebase);
    const herald = { headers: lower(request.headers), body: JSON.parse(request.body) };
    return diffJson(bytebase, herald).map((d) => ({ name, d }));
  });
}

/*
 * The approval and rollout activities against Bytebase 3.21.1 (fixture: what its webhook context
 * says for the same scenario, and how its group messages mention), the first of each kind that
 * Herald's mapping makes of the recorded stream approvals-and-rollouts.json: compared as
 * activities (name, level, title, description, link, actor, meta lines) and mentions (whom, and
 * what DingTalk, Slack, Feishu/Lark and WeCom group messages ping), not as layouts.
 */
const APPROVAL_SUITE = 'activities-3.21';
const APPROVAL_KINDS = {
  approvalRequested: 'bb.issue.approval.requested',
  issueApproved: 'bb.issue.approved',
  issueSentBack: 'bb.issue.sent-back',
  rolloutFailed: 'bb.pipeline.failed',
  rolloutCompleted: 'bb.pipeline.completed',
} as const;

function approvalActivities(): Record<keyof typeof APPROVAL_KINDS, Activity> {
  const stream: StoredEvent[] = JSON.parse(readFileSync('test/fixtures/streams/approvals-and-rollouts.json', 'utf8')).events;
  const activities = mapStream(stream).flatMap((m) => (m.activity ? [m.activity] : []));
  return Object.fromEntries(
    Object.entries(APPROVAL_KINDS).map(([name, type]) => {
      const first = activities.find((a) => a.type === type);
      if (!first) throw new Error(`the stream has no ${type} activity`);
      return [name, first];
    }),
  ) as Record<keyof typeof APPROVAL_KINDS, Activity>;
}

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
  return Object.entries(approvalActivities()).flatMap(([name, activity]) => diffJson(expected[name], asActivity(activity)).map((d) => ({ name, d })));
}

const all = [...SUITES.map((s) => ({ suite: s.suite, found: differences(s) })), { suite: APPROVAL_SUITE, found: approvalDifferences() }];
const unlisted = (suite: string, found: { name: string; d: Difference }[]) =>
  found
    .filter(({ d }) => !rules.some((rule) => matches(rule, suite, d)))
    .map(({ name, d }) => `${name}: ${d.op} ${d.path} ${JSON.stringify(d.bytebase)?.slice(0, 160)} → ${JSON.stringify(d.herald)?.slice(0, 160)}`);

describe('the Bytebase 1.12 fixtures', () => {
  it('were made from the cases the recorded stream gives now (else run bytebase-1.12/regenerate.sh)', () => {
    expect(JSON.parse(readFileSync('test/fidelity/bytebase-1.12/cases.json', 'utf8'))).toEqual(bytebaseInput());
  });

  it('cover the six seed activity types, Bytebase 1.12’s every level, and the test message', () => {
    expect(new Set(ORACLE.map((c) => c.bytebase.activity?.type ?? 'test')).size).toBe(7);
    const slack = JSON.parse(readFileSync('test/fidelity/bytebase-1.12/slack.json', 'utf8'));
    const emoji = ORACLE.map((c) => /^\*(:[a-z_]+: )?/.exec(slack[c.name].body.blocks[0].text.text)![1] ?? '');
    expect(new Set(emoji)).toEqual(new Set(['', ':white_check_mark: ', ':exclamation: ']));
  });
});

describe('Herald against Bytebase 3.21: the approval and rollout activities', () => {
  const found = all.find((s) => s.suite === APPROVAL_SUITE)!.found;

  it('has a fixture for every approval and rollout activity', () => {
    const fixture = JSON.parse(readFileSync('test/fidelity/bytebase-3.21/activities.json', 'utf8'));
    expect(Object.keys(fixture).filter((k) => !k.startsWith('_')).sort()).toEqual(Object.keys(APPROVAL_KINDS).sort());
  });

  it('differs only where docs/fidelity.md says why', () => {
    expect(unlisted(APPROVAL_SUITE, found)).toEqual([]);
  });
});

describe.each(all.filter((s) => s.suite !== APPROVAL_SUITE))('Herald against Bytebase: $suite', ({ suite, found }) => {
  it('has a fixture for every activity', () => {
    const { fixture } = SUITES.find((s) => s.suite === suite)!;
    expect(Object.keys(JSON.parse(readFileSync(join('test/fidelity', fixture), 'utf8')))).toEqual(casesOf(fixture).map((c) => c.name));
  });

  it('differs only where docs/fidelity.md says why', () => {
    expect(unlisted(suite, found)).toEqual([]);
  });
});

describe('the rules of differences.json', () => {
  it('are each explained in docs/fidelity.md, and each still match a difference', () => {
    const ids = new Set(rules.map((r) => r.id));
    const documented = new Set([...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]));
    expect([...ids].filter((id) => !documented.has(id))).toEqual([]);
    expect([...documented].filter((id) => !ids.has(id))).toEqual([]);
    // a rule that matches nothing any more is stale: remove it (and its line in the document)
    const stale = rules.filter((rule, i) => (rule.op === 'moved' || rule.op === 'escaped' ? !used.has(i) : !all.some(({ suite, found }) => found.some(({ d }) => matches(rule, suite, d)))));
    expect(stale.map((r) => `${r.id} ${r.op} ${r.path}`)).toEqual([]);
  });

  it('state the values on each side of their difference, whole (anchored at both ends)', () => {
    const sides = { added: ['herald'], removed: ['bytebase'], changed: ['bytebase', 'herald'] } as const;
    const loose = rules.flatMap((rule) =>
      rule.op === 'moved' || rule.op === 'escaped'
        ? []
        : sides[rule.op].filter((side) => !/^\^.*\$$/s.test(rule[side] ?? '') || rule[side] === '^.*$').map((side) => `${rule.id} ${rule.op} ${rule.path}: ${side}`),
    );
    expect(loose).toEqual([]);
  });
});
