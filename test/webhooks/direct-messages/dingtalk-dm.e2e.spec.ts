import { describeTokenVendor } from '../../support/dm-vendor-walk.js';
import { DingtalkApi } from '../../support/vendors/dingtalk-api.js';

/* DingTalk finds people by the phone they set (its national number, as Bytebase since #20595); Erin set none. */

const SECRET = 'dingtalk-client-secret-0123456789';
describeTokenVendor({
  type: 'DINGTALK',
  api: new DingtalkApi('dingabc123', SECRET, 'dingrobot01', { '13800000001': 'alice01', '13900000002': 'bob02', '13700000003': 'carol03' }),
  credentials: { clientId: 'dingabc123', clientSecret: SECRET, robotCode: 'dingrobot01' },
  secrets: [SECRET],
  known: { alice: 'alice01', bob: 'bob02', carol: 'carol03' },
  handles: { alice: { phone: '+86 138 0000 0001' }, bob: { phone: '+8613900000002' }, carol: { phone: '+86 137-0000-0003' }, dave: { phone: '+8613600000009' } },
  withoutHandle: true,
  recipients: (api) => api.dms.map((dm) => dm.userId),
  channelPath: '/robot/send?access_token=robot',
  channelReply: { status: 200, body: JSON.stringify({ errcode: 0, errmsg: 'ok' }), headers: { 'content-type': 'application/json' } },
  tokenRoute: 'POST /v1.0/oauth2/accessToken',
  sendRoute: 'POST /v1.0/robot/oToMessages/batchSend',
  rateLimited: { status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: '请求被流控' } },
});
