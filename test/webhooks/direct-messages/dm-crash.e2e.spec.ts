import { ChildHerald } from '../../support/child-herald.js';
import { queryDatabase } from '../../support/database-query.js';
import { OtlpReceiver } from '../../support/otlp-receiver.js';
import { caller, until } from '../../support/process-calls.js';
import { Receiver } from '../../support/receiver.js';
import { tempDir, testDatabaseUrl } from '../../support/test-app.js';
import { DingtalkApi } from '../../support/vendors/dingtalk-api.js';
import { FeishuApi } from '../../support/vendors/feishu-api.js';
import type { ImEmulator } from '../../support/vendors/im-emulator.js';
import { SlackApi } from '../../support/vendors/slack-api.js';
import { TeamsApi } from '../../support/vendors/teams-api.js';
import { WecomApi } from '../../support/vendors/wecom-api.js';

/*
 * A real Herald process, killed with SIGKILL while each of the six vendors' direct messages is
 * between its token and its message (the app's token fetched, the person's look-up in flight):
 * the restarted process fetches a token again and tells each approver exactly once, and the
 * delivery log (what the console shows) has each DM delivered. Then killed after the vendor took
 * a DM and before its record committed: that DM goes once more (at least once, at most one
 * repeat), except where the vendor drops a repeat of the same key (Feishu and Lark's `uuid`).
 * Throughout, no app's secret nor any token is in what a person or a collector sees: the IM-app
 * and delivery answers, the audit, the event feed, the raw attempt rows, the spans, the logs.
 */

const TOKEN = 'dm-crash-admin-token-0123456789';
const call = caller(TOKEN);
const TENANT = 'tenant-0001';
const TEAMS_CLIENT = '11111111-2222-3333-4444-555555555555';

interface Vendor {
  type: string;
  api: ImEmulator & { dms: unknown[] };
  app: () => { credentials: Record<string, string>; apiBase: string };
  /** The look-up routes of the two approvers (one of them is held). */
  lookups: string[];
  /** The message routes of the two approvers. */
  sends: string[];
  /** The vendor drops a repeat of a message's key. */
  deduplicates?: boolean;
  tokenRoute?: string;
  /** Who each DM went to (the vendor's ids of Bob and Carol). */
  to: (api: any) => string[];
  ids: [string, string];
  channelPath: string;
}

const PEOPLE = {
  bob: { name: 'Bob', email: 'bob@example.com', phone: '+8613900000002' },
  carol: { name: 'Carol', email: 'carol@example.com', phone: '+8613700000003' },
};

function vendors(): Vendor[] {
  const slack = new SlackApi('xoxb-1111-2222-abcdefghijkl', { 'bob@example.com': 'U0BOB', 'carol@example.com': 'U0CAROL' });
  const feishu = new FeishuApi('cli_f', 'feishu-secret-0123456789', { 'bob@example.com': 'ou_bob', 'carol@example.com': 'ou_carol' });
  const lark = new FeishuApi('cli_l', 'lark-secret-0123456789', { 'bob@example.com': 'ou_bob', 'carol@example.com': 'ou_carol' });
  const wecom = new WecomApi('ww01', 'wecom-secret-0123456789', 1000002, { 'bob@example.com': 'bob', 'carol@example.com': 'carol' });
  const dingtalk = new DingtalkApi('dingc', 'dingtalk-secret-0123456789', 'robot1', { '13900000002': 'bob02', '13700000003': 'carol03' });
  const teams = new TeamsApi(TENANT, TEAMS_CLIENT, 'teams-secret-0123456789', { 'bob@example.com': '19:bob@unq.gbl.spaces', 'carol@example.com': '19:carol@unq.gbl.spaces' });
  const emails = ['bob@example.com', 'carol@example.com'];
  return [
    { type: 'SLACK', api: slack, app: () => ({ credentials: { botToken: slack.botToken }, apiBase: slack.base }), lookups: ['GET /api/users.lookupByEmail'], sends: ['POST /api/chat.postMessage'], to: (a: SlackApi) => a.dms.map((d) => d.user), ids: ['U0BOB', 'U0CAROL'], channelPath: '/services/T/B/x' },
    ...([['FEISHU', feishu], ['LARK', lark]] as const).map(([type, api]) => ({
      type,
      api,
      app: () => ({ credentials: { appId: api.appId, appSecret: api.appSecret }, apiBase: api.base }),
      lookups: ['POST /open-apis/contact/v3/users/batch_get_id'],
      sends: ['POST /open-apis/im/v1/messages'],
      deduplicates: true,
      tokenRoute: 'POST /open-apis/auth/v3/tenant_access_token/internal',
      to: (a: FeishuApi) => a.dms.map((d) => d.openId),
      ids: ['ou_bob', 'ou_carol'] as [string, string],
      channelPath: '/open-apis/bot/v2/hook/x',
    })),
    { type: 'WECOM', api: wecom, app: () => ({ credentials: { corpId: 'ww01', agentId: '1000002', secret: wecom.secret }, apiBase: wecom.base }), lookups: ['POST /cgi-bin/user/get_userid_by_email'], sends: ['POST /cgi-bin/message/send'], tokenRoute: 'GET /cgi-bin/gettoken', to: (a: WecomApi) => a.dms.map((d) => d.userid), ids: ['bob', 'carol'], channelPath: '/cgi-bin/webhook/send?key=x' },
    { type: 'DINGTALK', api: dingtalk, app: () => ({ credentials: { clientId: 'dingc', clientSecret: dingtalk.clientSecret, robotCode: 'robot1' }, apiBase: dingtalk.base }), lookups: ['POST /topapi/v2/user/getbymobile'], sends: ['POST /v1.0/robot/oToMessages/batchSend'], tokenRoute: 'POST /v1.0/oauth2/accessToken', to: (a: DingtalkApi) => a.dms.map((d) => d.userId), ids: ['bob02', 'carol03'], channelPath: '/robot/send?access_token=x' },
    {
      type: 'TEAMS',
      api: teams,
      app: () => ({ credentials: { tenantId: TENANT, clientId: TEAMS_CLIENT, clientSecret: teams.clientSecret }, apiBase: teams.base }),
      lookups: emails.map((email) => `GET /v1.0/users/${encodeURIComponent(email)}/teamwork/installedApps`),
      sends: ['19:bob@unq.gbl.spaces', '19:carol@unq.gbl.spaces'].map((chat) => `POST /v3/conversations/${encodeURIComponent(chat)}/activities`),
      tokenRoute: `POST /${TENANT}/oauth2/v2.0/token`,
      to: (a: TeamsApi) => a.dms.map((d) => d.chatId),
      ids: ['19:bob@unq.gbl.spaces', '19:carol@unq.gbl.spaces'],
      channelPath: '/workflows/x',
    },
  ];
}

/** A Herald process with one project per vendor (Bob and Carol its approvers, a DM webhook, the vendor's IM app). */
async function heraldWith(all: Vendor[], channel: Receiver, otlp?: OtlpReceiver) {
  const databaseUrl = await testDatabaseUrl(tempDir('herald-dm-crash-'));
  const herald = new ChildHerald({
    DATABASE_URL: databaseUrl,
    HERALD_ADMIN_TOKEN: TOKEN,
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_EXTRA_HOSTS: '127.0.0.1',
    WEBHOOK_ALLOW_HTTP: 'true',
    HERALD_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'info',
    ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_SERVICE_NAME: 'herald-dm', OTEL_BSP_SCHEDULE_DELAY: '50' } : {}),
  });
  await herald.start();
  const ids: Record<string, number> = {};
  for (const [who, person] of Object.entries(PEOPLE)) ids[who] = (await call(herald.base, 'POST', '/api/users', person)).id;
  const projects: Record<string, { project: number; webhook: number }> = {};
  for (const v of all) {
    const project = (await call(herald.base, 'POST', '/api/projects', { name: `Team ${v.type}` })).id;
    for (const who of ['bob', 'carol']) await call(herald.base, 'PUT', `/api/projects/${project}/members/${ids[who]}`, { role: 'DEVELOPER' });
    await call(herald.base, 'PATCH', `/api/projects/${project}`, { approvalSteps: [{ approvers: [ids.bob, ids.carol] }] });
    const url = `http://127.0.0.1:${channel.port}${v.channelPath}`;
    const webhook = (await call(herald.base, 'POST', `/api/projects/${project}/webhooks`, { type: v.type, name: 'team', url, activityTypes: ['bb.issue.approval.requested'], coalesce: { windowSeconds: 0 }, directMessage: true })).id;
    await call(herald.base, 'PUT', `/api/projects/${project}/im-apps/${v.type}`, v.app());
    projects[v.type] = { project, webhook };
  }
  const dmDeliveries = async (type: string) => {
    const { project, webhook } = projects[type];
    return ((await call(herald.base, 'GET', `/api/projects/${project}/webhooks/${webhook}/deliveries?limit=50`)).items as { recipientId: number | null; status: string }[]).filter((d) => d.recipientId !== null);
  };
  /** Each vendor's first call of `routes` waits at the vendor; an issue in each project; kill -9 once every vendor holds one; then the held calls are answered. */
  const killWhileHeld = async (routes: (v: Vendor) => string[]) => {
    const held = all.map((v) => routes(v).map((route) => v.api.hold(route)));
    for (const v of all) await call(herald.base, 'POST', `/api/projects/${projects[v.type].project}/issues`, { name: 'Add index', type: 'bb.issue.database.schema.update' });
    await Promise.all(held.map((holds) => Promise.race(holds.map((h) => h.arrived))));
    await herald.kill();
    for (const holds of held) for (const h of holds) h.release();
  };
  // six vendors, two approvers each; a dead instance's claims are freed (PostgreSQL: once its heartbeat is missed)
  const allDelivered = () =>
    until(async () => {
      for (const v of all) if ((await dmDeliveries(v.type)).filter((d) => d.status === 'DELIVERED').length < 2) return false;
      return true;
    }, 'every DM delivered after the restart', 60_000);
  return { herald, ids, projects, databaseUrl, dmDeliveries, killWhileHeld, allDelivered };
}

describe('direct messages survive kill -9', () => {
  const channel = new Receiver();
  const otlp = new OtlpReceiver();
  let herald: ChildHerald | undefined;
  let all: Vendor[] = [];

  beforeAll(async () => {
    await otlp.start();
    await channel.start();
    channel.answer({ status: 200, body: '{"code":0,"errcode":0}', headers: { 'content-type': 'application/json' } });
  });
  beforeEach(async () => {
    all = vendors();
    for (const v of all) await v.api.start();
  });
  afterEach(async () => {
    await herald?.kill();
    for (const v of all) await v.api.stop();
  });
  afterAll(async () => {
    await channel.stop();
    await otlp.stop();
  });

  it('between token and message: tells each approver of each vendor exactly once after a restart, and the delivery log shows it', async () => {
    const h = await heraldWith(all, channel, otlp);
    herald = h.herald;
    const tokens = () => Object.fromEntries(all.map((v) => [v.type, v.tokenRoute ? v.api.of(v.tokenRoute).length : 0]));
    // each vendor's first look-up waits at the vendor: the token (where there is one) is fetched by then
    await h.killWhileHeld((v) => v.lookups);
    const tokensBefore = tokens();
    expect(Object.values(tokensBefore).filter((n) => n > 0)).toHaveLength(5);
    expect(all.map((v) => v.api.dms.length)).toEqual(all.map(() => 0));

    await herald.start();
    await h.allDelivered();
    for (const v of all) {
      expect({ type: v.type, to: v.to(v.api).sort() }).toEqual({ type: v.type, to: [...v.ids].sort() });
      // the restarted process knew no token: it fetched one
      if (v.tokenRoute) expect(v.api.of(v.tokenRoute).length).toBeGreaterThan(tokensBefore[v.type]);
      expect((await h.dmDeliveries(v.type)).map((d) => d.recipientId).sort()).toEqual([h.ids.bob, h.ids.carol].sort());
    }

    // the apps' secrets and tokens are nowhere a person or a collector sees: answers, audit, attempt rows, spans, logs
    await until(() => otlp.spans.filter((s) => s.name === 'send webhook' && s.attributes['herald.delivery.status'] === 'DELIVERED').length >= 12, 'the DM attempts’ spans exported');
    const shown: string[] = [herald.output, ...otlp.bodies, JSON.stringify(otlp.spans)];
    for (const v of all) {
      const { project, webhook } = h.projects[v.type];
      shown.push(JSON.stringify(await call(herald.base, 'GET', `/api/projects/${project}/im-apps`)));
      shown.push(JSON.stringify(await call(herald.base, 'GET', `/api/projects/${project}/audit?limit=200`)));
      for (const d of (await call(herald.base, 'GET', `/api/projects/${project}/webhooks/${webhook}/deliveries?limit=50`)).items) {
        shown.push(JSON.stringify(await call(herald.base, 'GET', `/api/projects/${project}/webhooks/${webhook}/deliveries/${d.id}`)));
      }
    }
    shown.push(JSON.stringify(await call(herald.base, 'GET', '/api/events?limit=1000')));
    shown.push(JSON.stringify(await queryDatabase(h.databaseUrl, 'SELECT * FROM webhook_delivery_attempts')));
    const text = shown.join('\n');
    expect(text).toContain('IM app access token fetched');
    for (const v of all) {
      const credentials = v.app().credentials;
      const secrets = ['botToken', 'appSecret', 'secret', 'clientSecret'].map((name) => credentials[name]).filter(Boolean);
      const tokens = [...((v.api as unknown as { tokens?: Map<string, unknown> }).tokens?.keys() ?? [])];
      expect(secrets.length + tokens.length).toBeGreaterThan(0);
      for (const secret of [...secrets, ...tokens]) expect({ type: v.type, shown: text.includes(secret) }).toEqual({ type: v.type, shown: false });
    }
    expect(await herald.stop()).toBe(0);
  }, 180_000);

  it('after the vendor took a DM, before its record: that DM goes once more (Feishu and Lark drop the repeat by its uuid), the others once', async () => {
    const h = await heraldWith(all, channel);
    herald = h.herald;
    // each vendor's first message waits at the vendor, which takes it once the process is dead (its answer is lost)
    await h.killWhileHeld((v) => v.sends);
    const first = all.map((v) => v.to(v.api));
    expect(first.map((to) => to.length)).toEqual(all.map(() => 1));

    await herald.start();
    await h.allDelivered();
    for (const [i, v] of all.entries()) {
      const to = v.to(v.api);
      const repeated = first[i][0];
      const other = v.ids.find((id) => id !== repeated)!;
      expect({ type: v.type, repeated: to.filter((id) => id === repeated).length, other: to.filter((id) => id === other).length }).toEqual({ type: v.type, repeated: v.deduplicates ? 1 : 2, other: 1 });
    }
    expect(await herald.stop()).toBe(0);
  }, 180_000);
});
