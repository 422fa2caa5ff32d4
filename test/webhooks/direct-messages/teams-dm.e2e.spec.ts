import { describeTokenVendor } from '../../support/dm-vendor-walk.js';
import { TeamsApi } from '../../support/vendors/teams-api.js';

/* Teams: people found by their chat with the app (installed for them) through Graph; Dave has none. */

const SECRET = 'teams~client~secret~0123456789';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
describeTokenVendor({
  type: 'TEAMS',
  api: new TeamsApi(TENANT, '11111111-2222-3333-4444-555555555555', SECRET, {
    'alice@example.com': '19:alice_chat@unq.gbl.spaces',
    'bob@example.com': '19:bob_chat@unq.gbl.spaces',
    'carol@example.com': '19:carol_chat@unq.gbl.spaces',
  }),
  credentials: { tenantId: TENANT, clientId: '11111111-2222-3333-4444-555555555555', clientSecret: SECRET },
  secrets: [SECRET],
  known: { alice: '19:alice_chat@unq.gbl.spaces', bob: '19:bob_chat@unq.gbl.spaces', carol: '19:carol_chat@unq.gbl.spaces' },
  recipients: (api) => api.dms.map((dm) => dm.chatId),
  channelPath: '/workflows/hook',
  channelReply: { status: 202 },
  tokenRoute: `POST /${TENANT}/oauth2/v2.0/token`,
  // the creator's chat: the rate limit answers the DM of the approval
  sendRoute: `POST /v3/conversations/${encodeURIComponent('19:alice_chat@unq.gbl.spaces')}/activities`,
  rateLimited: { status: 429, headers: { 'retry-after': '10' }, body: { error: { code: 'TooManyRequests' } } },
  tokensPerApp: 2,
  // the Bot Framework refuses the app (not allowed in the tenant, a wrong app id): a new token does not help
  refused: { status: 401, body: { message: 'Authorization has been denied for this request.' } },
});
