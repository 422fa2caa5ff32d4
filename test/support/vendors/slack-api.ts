import { ImEmulator, type ApiCall } from './im-emulator.js';

/**
 * Slack's Web API as its reference describes it (docs.slack.dev/reference/methods): the token
 * in `Authorization: Bearer`; HTTP 200 with `{ok: false, error}` for errors (invalid_auth,
 * users_not_found, channel_not_found); 429 with Retry-After when rate limited.
 * users.lookupByEmail (GET, `email`) finds a member; chat.postMessage (JSON) with a member id
 * as `channel` posts in the app's DM with them. `dms` holds what each member got.
 */
export class SlackApi extends ImEmulator {
  readonly dms: { user: string; body: any }[] = [];

  constructor(
    readonly botToken: string,
    /** email -> member id */
    readonly members: Record<string, string>,
  ) {
    super({
      'GET /api/users.lookupByEmail': (call) => {
        if (!this.authorized(call)) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
        const id = this.members[call.query.get('email') ?? ''];
        return { status: 200, body: id ? { ok: true, user: { id } } : { ok: false, error: 'users_not_found' } };
      },
      'POST /api/chat.postMessage': (call) => {
        if (!this.authorized(call)) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
        const channel = call.json?.channel;
        if (!Object.values(this.members).includes(channel)) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
        this.dms.push({ user: channel, body: call.json });
        return { status: 200, body: { ok: true, channel: `D${channel}`, ts: `${Date.now() / 1000}` } };
      },
    });
  }

  private authorized(call: ApiCall): boolean {
    return call.headers.authorization === `Bearer ${this.botToken}`;
  }
}
