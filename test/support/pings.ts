/** What pings someone in a chat body, per webhook type (shared by the mention tests and the end-to-end walk). */

type Json = any;

/** Every string in a JSON value. */
export function strings(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Per chat type: the markup in a body that pings someone (and checks of what must never be there). */
export const PINGS: Record<string, (body: Json) => string[]> = {
  // Slack's special mentions <!…>, user mentions <@…>, channels <#…>: escaped user text shows none
  SLACK: (body) => strings(body).flatMap((s) => s.match(/<[!@#][^>]*>/g) ?? []),
  DISCORD(body) {
    // embeds never ping, and the message says explicitly that nothing may
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body).not.toHaveProperty('content');
    return [];
  },
  TEAMS(body) {
    expect(JSON.stringify(body)).not.toContain('"mentioned"');
    return strings(body).flatMap((s) => s.match(/<\s*at\b[^>]*>/gi) ?? []);
  },
  // only the `at` field (atMobiles, isAtAll) pings: an @… in the text alone does not
  DINGTALK: (body) => (body.at === undefined ? [] : [JSON.stringify(body.at)]),
  FEISHU: (body) => strings(body).flatMap((s) => s.match(/<\s*at\b[^>]*>/gi) ?? []),
  LARK: (body) => PINGS.FEISHU(body),
  // <users/all> notifies the whole space
  GOOGLE_CHAT: (body) => strings(body).flatMap((s) => s.match(/<\s*users\/[^>]*>/gi) ?? []),
  WECOM(body) {
    expect(body).not.toHaveProperty('mentioned_list');
    expect(body.markdown).not.toHaveProperty('mentioned_list');
    return strings(body).flatMap((s) => s.match(/<@[^>]*>/g) ?? []);
  },
};

