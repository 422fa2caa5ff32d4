import { describeTokenVendor } from '../../support/dm-vendor-walk.js';
import { FeishuApi } from '../../support/vendors/feishu-api.js';

/* Feishu and Lark (the same Open Platform API on two hosts): each walk against its own emulated API. */

for (const type of ['FEISHU', 'LARK'] as const) {
  const secret = `${type.toLowerCase()}-app-secret-0123456789`;
  describeTokenVendor({
    type,
    api: new FeishuApi('cli_a1b2c3', secret, { 'alice@example.com': 'ou_alice', 'bob@example.com': 'ou_bob', 'carol@example.com': 'ou_carol' }),
    credentials: { appId: 'cli_a1b2c3', appSecret: secret },
    secrets: [secret],
    known: { alice: 'ou_alice', bob: 'ou_bob', carol: 'ou_carol' },
    recipients: (api) => api.dms.map((dm) => dm.openId),
    channelPath: '/open-apis/bot/v2/hook/robot',
    channelReply: { status: 200, body: JSON.stringify({ code: 0, msg: 'success' }), headers: { 'content-type': 'application/json' } },
    tokenRoute: 'POST /open-apis/auth/v3/tenant_access_token/internal',
    sendRoute: 'POST /open-apis/im/v1/messages',
    rateLimited: { status: 429, headers: { 'x-ogw-ratelimit-reset': '20' }, body: { code: 99991400, msg: 'request trigger frequency limit' } },
  });
}
