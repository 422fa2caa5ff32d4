import { ImEmulator, type ApiCall } from './im-emulator.js';

/**
 * Feishu's (and Lark's: the same API on open.larksuite.com) Open Platform as its server API
 * docs describe it: auth/v3/tenant_access_token/internal ({app_id, app_secret} -> token and
 * `expire` seconds; code 10014 for a wrong secret); contact/v3/users/batch_get_id (emails ->
 * user_list, a `user_id` only for those found); im/v1/messages (receive_id_type=open_id,
 * `content` a JSON string, `uuid` deduplicating). A missing or stale token is answered HTTP 400
 * with code 99991663 (99991677 once expired). `expireTokens()` ends every token issued so far.
 */
export class FeishuApi extends ImEmulator {
  readonly dms: { openId: string; card: any; uuid: string }[] = [];
  readonly tokens = new Map<string, boolean>();
  private issued = 0;
  private readonly uuids = new Set<string>();

  constructor(
    readonly appId: string,
    readonly appSecret: string,
    /** email -> open_id */
    readonly people: Record<string, string>,
    readonly expireSeconds = 7200,
  ) {
    super({
      'POST /open-apis/auth/v3/tenant_access_token/internal': (call) => {
        if (call.json?.app_id !== this.appId || call.json?.app_secret !== this.appSecret) return { status: 200, body: { code: 10014, msg: 'app secret invalid' } };
        const token = `t-g1044${this.appId}FeiShuTkn${++this.issued}`;
        this.tokens.set(token, true);
        return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire: this.expireSeconds } };
      },
      'POST /open-apis/contact/v3/users/batch_get_id': (call) => {
        const refused = this.refuse(call);
        if (refused) return refused;
        const emails: string[] = call.json?.emails ?? [];
        return { status: 200, body: { code: 0, msg: 'success', data: { user_list: emails.map((email) => (this.people[email] ? { email, user_id: this.people[email] } : { email })) } } };
      },
      'POST /open-apis/im/v1/messages': (call) => {
        const refused = this.refuse(call);
        if (refused) return refused;
        const openId = call.json?.receive_id;
        if (call.query.get('receive_id_type') !== 'open_id' || !Object.values(this.people).includes(openId)) {
          return { status: 400, body: { code: 230013, msg: 'Bot has NO availability to this user.' } };
        }
        if (!this.uuids.has(call.json.uuid)) {
          this.uuids.add(call.json.uuid);
          this.dms.push({ openId, card: JSON.parse(call.json.content), uuid: call.json.uuid });
        }
        return { status: 200, body: { code: 0, msg: 'success', data: { message_id: `om_${this.dms.length}` } } };
      },
    });
  }

  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, false);
  }

  private refuse(call: ApiCall) {
    const token = /^Bearer (.+)$/.exec(call.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) return { status: 400, body: { code: 99991663, msg: 'Invalid access token for authorization.' } };
    if (!this.tokens.get(token)) return { status: 400, body: { code: 99991677, msg: 'Authentication token expired.' } };
    return undefined;
  }
}
