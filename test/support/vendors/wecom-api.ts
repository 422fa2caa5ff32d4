import { ImEmulator, type ApiCall } from './im-emulator.js';

/**
 * WeCom's server API as its docs describe it: cgi-bin/gettoken (GET corpid, corpsecret ->
 * access_token, expires_in; errcode 40001 for a wrong secret); every other call takes the token
 * in the query (errcode 41001 missing, 40014 invalid, 42001 expired, all HTTP 200);
 * user/get_userid_by_email (46004: nobody); message/send (touser, agentid, msgtype markdown;
 * 81013 when nobody can be sent to; the same content to the same person within
 * duplicate_check_interval is dropped when enable_duplicate_check is 1).
 */
export class WecomApi extends ImEmulator {
  readonly dms: { userid: string; body: any }[] = [];
  readonly tokens = new Map<string, boolean>();
  private issued = 0;
  private readonly sent = new Set<string>();

  constructor(
    readonly corpId: string,
    readonly secret: string,
    readonly agentId: number,
    /** email -> userid */
    readonly people: Record<string, string>,
  ) {
    super({
      'GET /cgi-bin/gettoken': (call) => {
        if (call.query.get('corpid') !== this.corpId || call.query.get('corpsecret') !== this.secret) return { status: 200, body: { errcode: 40001, errmsg: 'invalid credential' } };
        const token = `wecom-token-${++this.issued}`;
        this.tokens.set(token, true);
        return { status: 200, body: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 } };
      },
      'POST /cgi-bin/user/get_userid_by_email': (call) => {
        const refused = this.refuse(call);
        if (refused) return refused;
        const userid = this.people[call.json?.email];
        return { status: 200, body: userid ? { errcode: 0, errmsg: 'ok', userid } : { errcode: 46004, errmsg: 'user not exist' } };
      },
      'POST /cgi-bin/message/send': (call) => {
        const refused = this.refuse(call);
        if (refused) return refused;
        const { touser, agentid, msgtype } = call.json ?? {};
        if (agentid !== this.agentId || msgtype !== 'markdown') return { status: 200, body: { errcode: 40056, errmsg: 'invalid agentid' } };
        if (!Object.values(this.people).includes(touser)) return { status: 200, body: { errcode: 81013, errmsg: 'user & party & tag all invalid' } };
        const key = `${touser}:${JSON.stringify(call.json.markdown)}`;
        if (!(call.json.enable_duplicate_check === 1 && this.sent.has(key))) this.dms.push({ userid: touser, body: call.json });
        this.sent.add(key);
        return { status: 200, body: { errcode: 0, errmsg: 'ok', invaliduser: '', msgid: `m${this.dms.length}` } };
      },
    });
  }

  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, false);
  }

  private refuse(call: ApiCall) {
    const token = call.query.get('access_token');
    if (!token) return { status: 200, body: { errcode: 41001, errmsg: 'access_token missing' } };
    if (!this.tokens.has(token)) return { status: 200, body: { errcode: 40014, errmsg: 'invalid access_token' } };
    if (!this.tokens.get(token)) return { status: 200, body: { errcode: 42001, errmsg: 'access_token expired' } };
    return undefined;
  }
}
