import { ImEmulator, type ApiCall } from './im-emulator.js';

/**
 * DingTalk's open API as its docs describe it, both hosts' paths on one server:
 * v1.0/oauth2/accessToken ({appKey, appSecret} -> accessToken, expireIn; HTTP 400
 * invalidClientIdOrSecret); topapi/v2/user/getbymobile (the token in the query; errcode 60121
 * nobody, 40014 a bad token, 42001 an expired one); v1.0/robot/oToMessages/batchSend (the token in
 * x-acs-dingtalk-access-token, HTTP 401 InvalidAuthentication when bad; userIds, robotCode,
 * msgKey sampleMarkdown with msgParam a JSON string).
 */
export class DingtalkApi extends ImEmulator {
  readonly dms: { userId: string; param: any }[] = [];
  readonly tokens = new Map<string, boolean>();
  private issued = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    readonly robotCode: string,
    /** national mobile number -> userid */
    readonly people: Record<string, string>,
  ) {
    super({
      'POST /v1.0/oauth2/accessToken': (call) => {
        if (call.json?.appKey !== this.clientId || call.json?.appSecret !== this.clientSecret) return { status: 400, body: { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret' } };
        const token = `dt-token-${++this.issued}`;
        this.tokens.set(token, true);
        return { status: 200, body: { accessToken: token, expireIn: 7200 } };
      },
      'POST /topapi/v2/user/getbymobile': (call) => {
        const token = this.tokens.get(call.query.get('access_token') ?? '');
        if (token === undefined) return { status: 200, body: { errcode: 40014, errmsg: '不合法的access_token' } };
        if (!token) return { status: 200, body: { errcode: 42001, errmsg: 'access_token超时' } };
        const userid = this.people[call.json?.mobile];
        return { status: 200, body: userid ? { errcode: 0, errmsg: 'ok', result: { userid }, request_id: 'r' } : { errcode: 60121, errmsg: '找不到该用户', request_id: 'r' } };
      },
      'POST /v1.0/robot/oToMessages/batchSend': (call) => {
        if (!this.valid(call)) return { status: 401, body: { code: 'InvalidAuthentication', message: '不合法的access_token' } };
        const { robotCode, userIds, msgKey, msgParam } = call.json ?? {};
        if (robotCode !== this.robotCode) return { status: 400, body: { code: 'resource.not.found', message: 'robot 不存在' } };
        if (msgKey !== 'sampleMarkdown') return { status: 400, body: { code: 'param.invalid', message: 'msgKey' } };
        const invalid = (userIds as string[]).filter((id) => !Object.values(this.people).includes(id));
        for (const userId of userIds as string[]) if (!invalid.includes(userId)) this.dms.push({ userId, param: JSON.parse(msgParam) });
        return { status: 200, body: { processQueryKey: `q${this.dms.length}`, invalidStaffIdList: invalid, flowControlledStaffIdList: [] } };
      },
    });
  }

  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, false);
  }

  private valid(call: ApiCall): boolean {
    return this.tokens.get(String(call.headers['x-acs-dingtalk-access-token'] ?? '')) === true;
  }
}
