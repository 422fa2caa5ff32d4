/*
 * The shapes of a user's contact handles, shared by the input rules and the providers that
 * mention by them (which check again before writing one into a message): none can carry markup.
 */

/** Slack member ids: `U…` (or `W…` on Enterprise Grid), upper-case letters and digits. */
export const SLACK_MEMBER_ID = /^[UW][A-Z0-9]{2,20}$/;
/** WeCom userids: 1 to 64 letters, digits, `_`, `-`, `@` or `.`; never `all` (`<@all>` pings the whole group). */
export const WECOM_USER_ID = /^(?!all$)[A-Za-z0-9_.@-]{1,64}$/i;
/** An email Feishu/Lark can mention by inside `<at email=…></at>`: no space, quote, `<`, `>` or `=`. */
export const MENTIONABLE_EMAIL = /^[^\s<>"'=]+@[^\s<>"'=]+$/;
