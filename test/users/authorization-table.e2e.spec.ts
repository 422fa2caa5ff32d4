import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { OpenApiConformance } from '../support/openapi-conformance.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Role = 'admin' | 'owner' | 'developer' | 'nonMember' | 'noToken' | 'revokedToken';
const ROLES: Role[] = ['admin', 'owner', 'developer', 'nonMember', 'noToken', 'revokedToken'];

interface Ctx {
  t: TestApp;
  ids: Record<string, number | string>;
  /** Runs as the admin, for per-case set-up. */
  admin: (method: 'post' | 'put' | 'patch', path: string, body?: object) => Promise<any>;
  n: number;
}

interface Case {
  /** Builds the path (and sets up what the case consumes) before each role's request. */
  path: (c: Ctx) => string | Promise<string>;
  body?: (c: Ctx) => object;
  expect: [admin: number, owner: number, developer: number, nonMember: number, noToken: number, revokedToken: number];
}

const ALL = ['bb.issue.create'];
const member = (ok: number): Case['expect'] => [ok, ok, ok, 404, 401, 401];
const ownerOnly = (ok: number): Case['expect'] => [ok, ok, 403, 404, 401, 401];
const adminOnly = (ok: number): Case['expect'] => [ok, 403, 403, 403, 401, 401];
const anyUser = (ok: number): Case['expect'] => [ok, ok, ok, ok, 401, 401];
const anyone: Case['expect'] = [200, 200, 200, 200, 200, 200];
const selfOrAdmin = (ok: number): Case['expect'] => [ok, 404, ok, 404, 401, 401];
/** A fresh issue (created by the admin) needing approval by these steps. */
const approvalIssue = async (c: Ctx, steps: object[]) =>
  ((await c.admin('post', `/api/projects/${c.ids.project}/issues`, { name: `approval ${c.n}`, type: 'bb.issue.general', approval: { steps } })) as { id: number }).id;
const freshIssue = async (c: Ctx) => (await c.admin('post', `/api/projects/${c.ids.project}/issues`, { name: `fresh ${c.n}`, type: 'bb.issue.general', pipeline: { stages: [{ name: 's', tasks: [{ name: 't' }] }] } })) as { id: number; pipeline: any };

/** Every route × role, with the status each must get. A route without an entry fails the last test. */
const TABLE: Record<string, Case> = {
  'GET /health/live': { path: () => '/health/live', expect: [200, 200, 200, 200, 200, 200] },
  'GET /health/ready': { path: () => '/health/ready', expect: [200, 200, 200, 200, 200, 200] },
  'GET /metrics': { path: () => '/metrics', expect: [200, 200, 200, 200, 200, 200] },
  // the OpenAPI document and its UI are public: they describe the API, they hold no data
  'GET /docs': { path: () => '/docs', expect: anyone },
  'GET /docs/': { path: () => '/docs/', expect: anyone },
  'GET /docs/index.html': { path: () => '/docs/index.html', expect: anyone },
  // registered by @nestjs/swagger, but swagger-ui-dist ships no LICENSE file to serve
  'GET /docs/LICENSE': { path: () => '/docs/LICENSE', expect: [404, 404, 404, 404, 404, 404] },
  'GET /docs/swagger-ui-init.js': { path: () => '/docs/swagger-ui-init.js', expect: anyone },
  'GET /docs/docs/swagger-ui-init.js': { path: () => '/docs/docs/swagger-ui-init.js', expect: anyone },
  'GET /docs/*': { path: () => '/docs/swagger-ui.css', expect: anyone },
  'GET /docs-json': { path: () => '/docs-json', expect: anyone },
  // the delivery console's page and files hold no data: public (the page calls the API with the user's token)
  'GET /console': { path: () => '/console', expect: anyone },
  'GET /console/assets/:file': { path: () => '/console/assets/console.css', expect: anyone },
  'POST /api/users': { path: () => '/api/users', body: (c) => ({ name: 'New', email: `new${c.n}@example.com` }), expect: adminOnly(201) },
  'GET /api/users/me': { path: () => '/api/users/me', expect: anyUser(200) },
  'GET /api/webhook-types': { path: () => '/api/webhook-types', expect: anyUser(200) },
  'PATCH /api/users/:userId': { path: (c) => `/api/users/${c.ids.developer}`, body: (c) => ({ phone: `+861380000${String(c.n).padStart(4, '0')}` }), expect: selfOrAdmin(200) },
  'POST /api/users/:userId/tokens': { path: (c) => `/api/users/${c.ids.developer}/tokens`, expect: selfOrAdmin(201) },
  'GET /api/users/:userId/tokens': { path: (c) => `/api/users/${c.ids.developer}/tokens`, expect: selfOrAdmin(200) },
  'DELETE /api/users/:userId/tokens/:tokenId': {
    path: async (c) => `/api/users/${c.ids.developer}/tokens/${(await c.admin('post', `/api/users/${c.ids.developer}/tokens`)).id}`,
    expect: selfOrAdmin(204),
  },
  'POST /api/projects': { path: () => '/api/projects', body: (c) => ({ name: `p${c.n}` }), expect: anyUser(201) },
  'GET /api/projects': { path: () => '/api/projects', expect: anyUser(200) },
  'GET /api/projects/:projectId': { path: (c) => `/api/projects/${c.ids.project}`, expect: member(200) },
  'PATCH /api/projects/:projectId': { path: (c) => `/api/projects/${c.ids.project}`, body: (c) => ({ name: `renamed ${c.n}` }), expect: ownerOnly(200) },
  'GET /api/projects/:projectId/members': { path: (c) => `/api/projects/${c.ids.project}/members`, expect: member(200) },
  'PUT /api/projects/:projectId/members/:userId': { path: (c) => `/api/projects/${c.ids.project}/members/${c.ids.extra}`, body: (c) => ({ role: c.n % 2 ? 'OWNER' : 'DEVELOPER' }), expect: ownerOnly(200) },
  'DELETE /api/projects/:projectId/members/:userId': {
    path: async (c) => {
      await c.admin('put', `/api/projects/${c.ids.project}/members/${c.ids.extra}`, { role: 'DEVELOPER' });
      return `/api/projects/${c.ids.project}/members/${c.ids.extra}`;
    },
    expect: ownerOnly(204),
  },
  'GET /api/projects/:projectId/audit': { path: (c) => `/api/projects/${c.ids.project}/audit`, expect: ownerOnly(200) },
  'POST /api/projects/:projectId/issues': { path: (c) => `/api/projects/${c.ids.project}/issues`, body: () => ({ name: 'x', type: 'bb.issue.general' }), expect: member(201) },
  'GET /api/projects/:projectId/issues': { path: (c) => `/api/projects/${c.ids.project}/issues`, expect: member(200) },
  'GET /api/issues/:issueId': { path: (c) => `/api/issues/${c.ids.issue}`, expect: member(200) },
  'PATCH /api/issues/:issueId': { path: (c) => `/api/issues/${c.ids.issue}`, body: (c) => ({ description: `d${c.n}` }), expect: member(200) },
  'POST /api/issues/:issueId/status': { path: async (c) => `/api/issues/${(await freshIssue(c)).id}/status`, body: () => ({ status: 'CANCELED' }), expect: member(200) },
  'POST /api/issues/:issueId/tasks/:taskId/status': {
    path: async (c) => {
      const issue = await freshIssue(c);
      return `/api/issues/${issue.id}/tasks/${issue.pipeline.stages[0].tasks[0].id}/status`;
    },
    body: () => ({ status: 'PENDING' }),
    expect: member(200),
  },
  // approval decisions belong to the current step's approvers (an admin is none unless listed) and the creator
  'POST /api/issues/:issueId/approval/approve': { path: async (c) => `/api/issues/${await approvalIssue(c, [{ role: 'OWNER' }])}/approval/approve`, expect: [403, 200, 403, 404, 401, 401] },
  'POST /api/issues/:issueId/approval/send-back': {
    path: async (c) => `/api/issues/${await approvalIssue(c, [{ approvers: [c.ids.developer] }])}/approval/send-back`,
    body: () => ({ reason: 'not yet' }),
    expect: [403, 403, 200, 404, 401, 401],
  },
  'POST /api/issues/:issueId/approval/request': {
    path: async (c) => {
      const id = await approvalIssue(c, [{ approvers: [c.ids.admin] }]);
      await c.admin('post', `/api/issues/${id}/approval/send-back`, { reason: 'again' });
      return `/api/issues/${id}/approval/request`;
    },
    expect: [200, 403, 403, 404, 401, 401],
  },
  'POST /api/issues/:issueId/comments': { path: (c) => `/api/issues/${c.ids.issue}/comments`, body: () => ({ content: 'hello' }), expect: member(201) },
  'GET /api/issues/:issueId/comments': { path: (c) => `/api/issues/${c.ids.issue}/comments`, expect: member(200) },
  // only the author (the developer) may edit the developer's comment, admins included
  'PATCH /api/issues/:issueId/comments/:commentId': { path: (c) => `/api/issues/${c.ids.issue}/comments/${c.ids.comment}`, body: (c) => ({ content: `edit ${c.n}` }), expect: [403, 403, 200, 404, 401, 401] },
  'GET /api/issues/:issueId/events': { path: (c) => `/api/issues/${c.ids.issue}/events`, expect: member(200) },
  'GET /api/events': { path: () => '/api/events', expect: adminOnly(200) },
  // answered at once (the rebuild runs on in the background)
  'POST /api/admin/projections/rebuild': { path: () => '/api/admin/projections/rebuild', expect: adminOnly(202) },
  'GET /api/admin/projections/rebuild': { path: () => '/api/admin/projections/rebuild', expect: adminOnly(200) },
  'POST /api/admin/secrets/reseal': { path: () => '/api/admin/secrets/reseal', expect: adminOnly(200) },
  'POST /api/projects/:projectId/webhooks': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks`,
    body: (c) => ({ type: 'CUSTOM', name: 'w', url: `https://hooks.example.com/${c.n}`, activityTypes: ALL }),
    expect: ownerOnly(201),
  },
  'GET /api/projects/:projectId/webhooks': { path: (c) => `/api/projects/${c.ids.project}/webhooks`, expect: member(200) },
  'GET /api/projects/:projectId/webhooks/:webhookId': { path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}`, expect: member(200) },
  'GET /api/projects/:projectId/webhooks/:webhookId/url': { path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/url`, expect: ownerOnly(200) },
  'POST /api/projects/:projectId/webhooks/filter-trial': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/filter-trial`,
    body: () => ({ filter: 'level == "ERROR"', limit: 5 }),
    expect: ownerOnly(200),
  },
  'GET /api/im-app-types': { path: () => '/api/im-app-types', expect: anyUser(200) },
  'GET /api/projects/:projectId/im-apps': { path: (c) => `/api/projects/${c.ids.project}/im-apps`, expect: ownerOnly(200) },
  'PUT /api/projects/:projectId/im-apps/:type': {
    path: (c) => `/api/projects/${c.ids.project}/im-apps/FEISHU`,
    body: (c) => ({ credentials: { appId: `cli_${c.n}`, appSecret: `secret-${c.n}` } }),
    expect: ownerOnly(200),
  },
  'DELETE /api/projects/:projectId/im-apps/:type': {
    path: async (c) => {
      await c.admin('put', `/api/projects/${c.ids.project}/im-apps/WECOM`, { credentials: { corpId: 'ww1234567890', agentId: '1000002', secret: `s${c.n}` } });
      return `/api/projects/${c.ids.project}/im-apps/WECOM`;
    },
    expect: ownerOnly(204),
  },
  'PATCH /api/projects/:projectId/webhooks/:webhookId': { path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}`, body: (c) => ({ name: `w${c.n}` }), expect: ownerOnly(200) },
  'DELETE /api/projects/:projectId/webhooks/:webhookId': {
    path: async (c) => {
      const hook = await c.admin('post', `/api/projects/${c.ids.project}/webhooks`, { type: 'CUSTOM', name: 'gone', url: `https://hooks.example.com/gone/${c.n}`, activityTypes: ALL });
      return `/api/projects/${c.ids.project}/webhooks/${hook.id}`;
    },
    expect: ownerOnly(204),
  },
  'POST /api/projects/:projectId/webhooks/:webhookId/test': { path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/test`, expect: ownerOnly(200) },
  'GET /api/projects/:projectId/webhooks/:webhookId/deliveries': { path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/deliveries`, expect: member(200) },
  'GET /api/projects/:projectId/webhooks/:webhookId/deliveries/:deliveryId': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/deliveries/${c.ids.delivery}`,
    expect: ownerOnly(200),
  },
  'POST /api/projects/:projectId/webhooks/:webhookId/deliveries/:deliveryId/redeliver': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/deliveries/${c.ids.delivery}/redeliver`,
    expect: ownerOnly(202),
  },
  'POST /api/projects/:projectId/webhooks/:webhookId/recover': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/recover`,
    body: () => ({ since: '2026-01-01T00:00:00Z' }),
    expect: ownerOnly(202),
  },
  'GET /api/projects/:projectId/webhooks/:webhookId/deliveries/hourly': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/deliveries/hourly`,
    expect: member(200),
  },
  'GET /api/issues/:issueId/webhook-decisions': { path: (c) => `/api/issues/${c.ids.issue}/webhook-decisions`, expect: member(200) },
  'POST /api/projects/:projectId/webhooks/:webhookId/replay': {
    path: (c) => `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/replay`,
    body: () => ({ from: 'position:1', dryRun: true }),
    expect: ownerOnly(200),
  },
  'GET /api/projects/:projectId/webhooks/:webhookId/replays/:replayId': {
    path: async (c) => {
      const { id: replayId } = await c.admin('post', `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/replay`, { from: 'position:1' });
      return `/api/projects/${c.ids.project}/webhooks/${c.ids.webhook}/replays/${replayId}`;
    },
    expect: member(200),
  },
};

describe('authorization: every route × role', () => {
  let t: TestApp;
  let receiver: Receiver;
  let conformance: OpenApiConformance;
  /** Answers that do not match the OpenAPI document (checked for every case below). */
  const nonConforming: string[] = [];
  const tokens: Partial<Record<Role, string>> = {};
  const ids: Record<string, number | string> = {};
  let n = 0;
  const ctx = (): Ctx => ({
    t,
    ids,
    n: ++n,
    admin: async (method, path, body) => (await t.http[method](path).set(t.auth).send(body ?? {})).body,
  });

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestApp({ env: LOCAL_WEBHOOK_ENV });
    conformance = new OpenApiConformance((await t.http.get('/docs-json').expect(200)).body);
    const c = ctx();
    const user = (name: string) => c.admin('post', '/api/users', { name, email: `${name}@example.com` });
    const owner = await user('owner');
    const developer = await user('developer');
    const stranger = await user('stranger');
    const extra = await user('extra');
    tokens.admin = t.auth.Authorization.slice('Bearer '.length);
    tokens.owner = owner.token;
    tokens.developer = developer.token;
    tokens.nonMember = stranger.token;
    const revoked = await c.admin('post', `/api/users/${developer.id}/tokens`);
    await t.http.delete(`/api/users/${developer.id}/tokens/${revoked.id}`).set(t.auth).expect(204);
    tokens.revokedToken = revoked.token;
    ids.developer = developer.id;
    ids.admin = (await t.http.get('/api/users/me').set(t.auth).expect(200)).body.id;
    ids.extra = extra.id;
    ids.project = (await t.http.post('/api/projects').set({ Authorization: `Bearer ${owner.token}` }).send({ name: 'Table' }).expect(201)).body.id;
    await t.http.put(`/api/projects/${ids.project}/members/${developer.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
    ids.webhook = (await c.admin('post', `/api/projects/${ids.project}/webhooks`, { type: 'CUSTOM', name: 'main', url: receiver.url(), activityTypes: ALL })).id;
    ids.issue = (await c.admin('post', `/api/projects/${ids.project}/issues`, { name: 'table issue', type: 'bb.issue.general' })).id;
    ids.comment = (await t.http.post(`/api/issues/${ids.issue}/comments`).set({ Authorization: `Bearer ${developer.token}` }).send({ content: 'mine' }).expect(201)).body.id;
    await t.app.get(WebhookSubscription).catchUp();
    ids.delivery = (await t.http.get(`/api/projects/${ids.project}/webhooks/${ids.webhook}/deliveries`).set(t.auth)).body.items[0].id;
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  for (const [route, spec] of Object.entries(TABLE)) {
    it(route, async () => {
      const [method, template] = route.split(' ');
      const got: Record<string, number> = {};
      for (const role of ROLES) {
        const c = ctx();
        const path = await spec.path(c);
        let request = t.http[method.toLowerCase() as 'get'](path);
        if (role !== 'noToken') request = request.set('Authorization', `Bearer ${tokens[role]}`);
        const res = await request.send(spec.body?.(c) ?? (method === 'GET' || method === 'DELETE' ? undefined : {}));
        got[role] = res.status;
        if (!template.startsWith('/docs') && !template.startsWith('/console')) {
          nonConforming.push(...conformance.check(method, path, res.status, res.headers['content-type'], /json/.test(res.headers['content-type'] ?? '') ? res.body : res.text));
        }
      }
      expect({ route: template, ...got }).toEqual({ route: template, ...Object.fromEntries(ROLES.map((r, i) => [r, spec.expect[i]])) });
    });
  }

  it('has an entry for every route the app serves', () => {
    expect(t.routes.filter((r) => !(r in TABLE))).toEqual([]);
  });

  it('answered every case above as the OpenAPI document says (status, content type, shape)', () => {
    expect(conformance.checked.size).toBeGreaterThan(100);
    expect(nonConforming).toEqual([]);
  });
});
