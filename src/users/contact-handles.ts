/*
 * The shapes of a user's contact handles, shared by the input rules and the providers that
 * mention by them (which check again before writing one into a message): none can carry markup,
 * and none may be a mention of everyone.
 */

/** Slack member ids: `U…` (or `W…` on Enterprise Grid), upper-case letters and digits. */
export const SLACK_MEMBER_ID = /^[UW][A-Z0-9]{2,20}$/;
/** WeCom userids: 1 to 64 letters, digits, `_`, `-`, `@` or `.` (never a mention of everyone: see isBroadcastHandle). */
export const WECOM_USER_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
/** An email Feishu/Lark can mention by inside `<at email=…></at>`: no space, quote, `<`, `>` or `=`. */
export const MENTIONABLE_EMAIL = /^[^\s<>"'=]+@[^\s<>"'=]+$/;

/**
 * The words chat services read as "everyone" once a provider wraps a handle in its mention
 * markup: WeCom `<@all>` (so `all` and `@all`, which became `<@@all>`), Feishu/Lark
 * `<at id=all>`, Slack `<!channel>`, `<!here>`, `<!everyone>` (and the old `<!group>`),
 * Discord `@everyone` and `@here`, Google Chat `<users/all>`, and `所有人`, how WeCom, Feishu
 * and DingTalk show "all". One list for every handle type: a handle is rendered by one
 * provider today, but the list costs nothing and no real userid needs these words.
 */
const EVERYONE = new Set(['all', 'everyone', 'here', 'channel', 'group', 'users/all', '所有人']);

/**
 * Whether a handle is a mention of everyone in any spelling: any case, full-width forms
 * (`＠ａｌｌ`), surrounding spaces, wrapped in `<…>`, after any number of `@` or `!`.
 */
export function isBroadcastHandle(handle: string): boolean {
  const word = handle
    .normalize('NFKC')
    .trim()
    .toLowerCase()
    .replace(/^<\s*(.*?)\s*>$/, '$1')
    .replace(/^[@!\s]+/, '');
  return EVERYONE.has(word);
}

/** What a provider may write into its mention markup: a handle of its shape that mentions one person. */
export function isMentionable(handle: string | null | undefined, shape: RegExp): handle is string {
  return typeof handle === 'string' && shape.test(handle) && !isBroadcastHandle(handle);
}

/** The 400 message for a handle that is a mention of everyone. */
export const broadcastMessage = (field: string) =>
  `${field} must not be a mention of everyone (all, @all, @here, @channel, @everyone, <!channel> … in any case or spacing): it would ping the whole chat`;
