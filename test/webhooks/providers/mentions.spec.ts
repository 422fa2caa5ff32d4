import { ACTIVITY_LEVELS, type Activity } from '../../../src/webhooks/activity.js';
import { PROVIDERS, WEBHOOK_TYPES } from '../../../src/webhooks/providers/registry.js';
import { ACTIVITIES, CASES, INJECTIONS, TEAMS_WORKFLOWS_URL, ctx, hook } from './activities.js';

/*
 * No user text can ping a whole room: each chat service's room-wide mention markup, typed into any
 * text Herald shows (title, description, meta values, the actor's name), reaches the service as
 * plain text. Herald adds no mentions of its own.
 */

type Json = any;


function injected(base: Activity): Activity {
  return {
    ...base,
    title: `${base.title} ${INJECTIONS}`,
    description: `${INJECTIONS}\n${base.description}`,
    meta: base.meta.map((m) => ({ name: m.name, value: `${m.value} ${INJECTIONS}` })),
    actor: { ...base.actor, name: `${base.actor.name} ${INJECTIONS}` },
  };
}

/** Every string in a JSON value. */
function strings(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Per chat type: what would ping a room in its body. Every chat type of the registry must have an entry. */
const NO_ROOM_MENTION: Record<string, (body: Json) => void> = {
  SLACK(body) {
    // Slack's special mentions are <!…> and <@…>; escaped they show as typed
    for (const s of strings(body)) expect(s).not.toMatch(/<[!@#]/);
  },
  DISCORD(body) {
    // embeds never ping, and the message says explicitly that nothing may
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body).not.toHaveProperty('content');
  },
  TEAMS(body) {
    for (const s of strings(body)) expect(s).not.toMatch(/<\s*at\b/i);
    expect(JSON.stringify(body)).not.toContain('"mentioned"');
  },
  DINGTALK(body) {
    // only the `at` field (isAtAll, atMobiles) pings; Herald never sends it
    expect(body).not.toHaveProperty('at');
  },
  FEISHU(body) {
    for (const s of strings(body)) expect(s).not.toMatch(/<\s*at\b/i);
  },
  LARK(body) {
    NO_ROOM_MENTION.FEISHU(body);
  },
  GOOGLE_CHAT(body) {
    // <users/all> notifies the whole space
    for (const s of strings(body)) expect(s).not.toMatch(/<\s*users\//i);
  },
  WECOM(body) {
    for (const s of strings(body)) expect(s).not.toMatch(/<@/);
    expect(body).not.toHaveProperty('mentioned_list');
    expect(body.markdown).not.toHaveProperty('mentioned_list');
  },
};

const CHAT_TYPES = WEBHOOK_TYPES.filter((type) => type !== 'CUSTOM');

it('checks every chat type of the registry', () => {
  expect(Object.keys(NO_ROOM_MENTION).sort()).toEqual([...CHAT_TYPES].sort());
});

describe.each(CHAT_TYPES)('%s', (type) => {
  const urls = type === 'TEAMS' ? [hook('TEAMS').url, TEAMS_WORKFLOWS_URL] : [hook(type).url];
  it.each(CASES.flatMap((name) => ACTIVITY_LEVELS.flatMap((level) => urls.map((url) => [name, level, url] as const))))('%s at %s (%s) pings no one', (name, level, url) => {
    const activity = injected({ ...ACTIVITIES[name], level });
    const body = JSON.parse(PROVIDERS[type].render(activity, hook(type, { url }), ctx).body);
    NO_ROOM_MENTION[type](body);
    // what was typed is still there to read
    expect(JSON.stringify(body)).toMatch(/everyone/);
  });
});
