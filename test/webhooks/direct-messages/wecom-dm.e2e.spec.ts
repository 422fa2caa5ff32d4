import { describeTokenVendor } from '../../support/dm-vendor-walk.js';
import { WecomApi } from '../../support/vendors/wecom-api.js';

/* WeCom: Bob set his userid (no look-up); the others are found by email; Dave by nobody. */

const SECRET = 'wecom-app-secret-0123456789abcdef';
describeTokenVendor({
  type: 'WECOM',
  api: new WecomApi('ww0123456789', SECRET, 1000002, { 'alice@example.com': 'alice.chen', 'bob@example.com': 'bob', 'carol@example.com': 'carol' }),
  credentials: { corpId: 'ww0123456789', agentId: '1000002', secret: SECRET },
  secrets: [SECRET],
  known: { alice: 'alice.chen', bob: 'bob', carol: 'carol' },
  handles: { bob: { wecomUserId: 'bob' } },
  recipients: (api) => api.dms.map((dm) => dm.userid),
  channelPath: '/cgi-bin/webhook/send?key=robot',
  channelReply: { status: 200, body: JSON.stringify({ errcode: 0, errmsg: 'ok' }), headers: { 'content-type': 'application/json' } },
  tokenRoute: 'GET /cgi-bin/gettoken',
  sendRoute: 'POST /cgi-bin/message/send',
  rateLimited: { status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } },
});
