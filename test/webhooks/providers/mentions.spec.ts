import { ACTIVITY_LEVELS, type Activity, type Mention } from '../../../src/webhooks/activity.js';
import { PROVIDERS, WEBHOOK_TYPES } from '../../../src/webhooks/providers/registry.js';
import { PINGS } from '../../support/pings.js';
import { APPROVAL_ACTIVITIES, APPROVAL_CASES, EVERY_ACTIVITY, EVERY_CASE, INJECTIONS, TEAMS_WORKFLOWS_URL, ctx, hook, mentioned } from './activities.js';

/*
 * No user text can ping anyone: each chat service's mention markup, typed into any text Herald
 * shows (title, description, meta values, the actor's name), reaches the service as plain text.
 * Herald's own mentions (approvers asked, the creator of an approved or sent-back issue) ping
 * exactly the people mentioned, by the handles they set, where the service's webhook can.
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

/** What Herald's own mentions of an activity make each chat type ping: the mentioned people's handles, nothing else. */
const own = (a: Activity, handle: (m: Mention) => string | null) => (a.mentions ?? []).map(handle).filter((h): h is string => h !== null);
const OWN: Record<string, (a: Activity) => string[]> = {
  SLACK: (a) => own(a, (m) => m.slackMemberId && `<@${m.slackMemberId}>`),
  DISCORD: () => [],
  TEAMS: () => [],
  DINGTALK(a) {
    const mobiles = own(a, (m) => m.phone && m.phone.replace(/^\+86/, ''));
    return mobiles.length > 0 ? [JSON.stringify({ atMobiles: mobiles, isAtAll: false })] : [];
  },
  FEISHU: (a) => own(a, (m) => `<at email=${m.email}>`),
  LARK: (a) => OWN.FEISHU(a),
  GOOGLE_CHAT: () => [],
  WECOM: (a) => own(a, (m) => m.wecomUserId && `<@${m.wecomUserId}>`),
};

const CHAT_TYPES = WEBHOOK_TYPES.filter((type) => type !== 'CUSTOM');

it('checks every chat type of the registry', () => {
  expect(Object.keys(PINGS).sort()).toEqual([...CHAT_TYPES].sort());
  expect(Object.keys(OWN).sort()).toEqual([...CHAT_TYPES].sort());
});

describe.each(CHAT_TYPES)('%s', (type) => {
  const urls = type === 'TEAMS' ? [hook('TEAMS').url, TEAMS_WORKFLOWS_URL] : [hook(type).url];
  const cases = EVERY_CASE.flatMap((name) => ACTIVITY_LEVELS.flatMap((level) => urls.map((url) => [name, level, url] as const)));

  it.each(cases)('%s at %s (%s) pings no one but whom Herald mentions', (name, level, url) => {
    const activity = injected({ ...EVERY_ACTIVITY[name], level });
    const body = JSON.parse(PROVIDERS[type].render(activity, hook(type, { url }), ctx).body);
    expect(PINGS[type](body)).toEqual(OWN[type](activity));
    // what was typed is still there to read
    expect(JSON.stringify(body)).toMatch(/everyone/);
  });

  it.each(APPROVAL_CASES.filter((name) => APPROVAL_ACTIVITIES[name].mentions))('%s names every mentioned person, with a handle or without', (name) => {
    const activity = APPROVAL_ACTIVITIES[name];
    const text = JSON.stringify(JSON.parse(PROVIDERS[type].render(activity, hook(type), ctx).body));
    for (const person of activity.mentions ?? []) expect(text).toContain(person.name);
    if (type !== 'DISCORD' && type !== 'TEAMS' && type !== 'GOOGLE_CHAT') expect(OWN[type](activity).length).toBeGreaterThan(0);
  });
});

it('mentions on DingTalk by the national number, in the text and in at.atMobiles, never everyone', () => {
  const body = JSON.parse(PROVIDERS.DINGTALK.render(APPROVAL_ACTIVITIES.approvalRequested, hook('DINGTALK'), ctx).body);
  expect(body.at).toEqual({ atMobiles: ['13900000003'], isAtAll: false });
  expect(body.markdown.text.split('\n').at(-1)).toBe('@13900000003');
});

it('mentions no one a user settles on by a handle of the wrong shape (a WeCom "all", markup in a Slack id)', () => {
  const sneaky = { ...mentioned.carol, slackMemberId: '!channel', wecomUserId: 'all', phone: '+86 138 <at>', email: 'x@y.com><at id=all' };
  const activity = { ...APPROVAL_ACTIVITIES.issueApproved, mentions: [sneaky] };
  for (const type of CHAT_TYPES) {
    const body = JSON.parse(PROVIDERS[type].render(activity, hook(type), ctx).body);
    expect({ type, pings: PINGS[type](body) }).toEqual({ type, pings: [] });
  }
});

it('mentions no one by a handle stored before the broadcast rule (a WeCom "@all" would render as <@@all>)', () => {
  for (const wecomUserId of ['@all', '@ALL', '@everyone', 'here']) {
    const activity = { ...APPROVAL_ACTIVITIES.issueApproved, mentions: [{ ...mentioned.carol, wecomUserId }] };
    const body = JSON.parse(PROVIDERS.WECOM.render(activity, hook('WECOM'), ctx).body);
    expect({ wecomUserId, pings: PINGS.WECOM(body) }).toEqual({ wecomUserId, pings: [] });
  }
});
