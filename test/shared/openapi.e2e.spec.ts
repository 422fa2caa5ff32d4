import { Validator } from '@seriousme/openapi-schema-validator';
import { getMetadataStorage } from 'class-validator';
import { ChangeIssueStatusDto, ChangeTaskStatusDto, CommentDto, CreateIssueDto, ListIssuesQueryDto, SendBackDto, UpdateIssueDto } from '../../src/issues/dto/issue.dto.js';
import { ApprovalDto, ApprovalStepDto } from '../../src/issues/dto/approval.dto.js';
import { ContactDto } from '../../src/users/contact.dto.js';
import { CreateProjectDto, UpdateProjectDto, SetMemberDto } from '../../src/projects/projects.controller.js';
import { CreateUserDto } from '../../src/users/users.controller.js';
import { CreateWebhookDto, ListDeliveriesQueryDto, RecoverDto, UpdateWebhookDto } from '../../src/webhooks/config/webhook.dto.js';
import { EventFeedQueryDto } from '../../src/events-feed/events-feed.module.js';
import { CoalesceDto } from '../../src/webhooks/coalesce/coalesce.dto.js';
import { ReplayDto } from '../../src/webhooks/replay/replay.controller.js';
import { PageQuery } from '../../src/shared/pagination.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DeliveryDispatcher } from '../../src/webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../../src/webhooks/subscription/webhook-subscription.js';
import { OpenApiConformance } from '../support/openapi-conformance.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, useTestApp, type TestApp } from '../support/test-app.js';

/** Routes served by Herald that are not part of the API it documents (the document and its UI, the delivery console's page and files). */
const undocumented = (route: string) => /^GET \/(docs(\/|-json|$)|console(\/|$))/.test(route);
const toTemplate = (route: string) => route.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document (/docs-json) and UI (/docs)', () => {
  const t = useTestApp();
  let document: any;

  beforeAll(async () => {
    document = (await t.http.get('/docs-json').expect(200).expect('content-type', /json/)).body;
  });

  it('is a valid OpenAPI 3.1 document by the OpenAPI schema validator', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('documents every route the app registers, and no route it does not serve', () => {
    const served = t.routes.filter((r) => !undocumented(r)).map((r) => {
      const [method, path] = r.split(' ');
      return `${method} ${toTemplate(path)}`;
    });
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`));
    expect(served.length).toBeGreaterThanOrEqual(39);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !served.includes(r))).toEqual([]);
  });

  it('gives every operation a summary, a success answer with its shape, and its errors as problem+json', () => {
    const gaps: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, any>)) {
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.summary) gaps.push(`${where}: no summary`);
        if (!/\*\*Who may call:\*\*/.test(op.description ?? '')) gaps.push(`${where}: no "who may call"`);
        const statuses = Object.keys(op.responses);
        const success = statuses.filter((s) => s.startsWith('2'));
        if (success.length === 0) gaps.push(`${where}: no success answer`);
        for (const s of success) if (s !== '204' && !op.responses[s].content) gaps.push(`${where}: ${s} has no body schema`);
        for (const s of statuses.filter((s) => /^4/.test(s))) {
          const content = op.responses[s].content;
          if (!content?.['application/problem+json']) gaps.push(`${where}: ${s} is not documented as problem+json`);
        }
        if (!path.startsWith('/health') && !path.startsWith('/metrics')) {
          for (const s of ['401', '429']) if (!statuses.includes(s)) gaps.push(`${where}: ${s} missing`);
        }
        if (op.requestBody) for (const s of ['400', '413', '415']) if (!statuses.includes(s)) gaps.push(`${where}: ${s} missing`);
      }
    }
    expect(gaps).toEqual([]);
    expect(document.paths['/health/live'].get.security).toEqual([]);
    expect(document.paths['/api/issues/{issueId}'].get.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/api/issues/{issueId}'].patch.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['path:issueId', 'header:If-Match']));
    expect(Object.keys(document.paths['/api/projects/{projectId}/webhooks/{webhookId}/deliveries'].get.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '429']),
    );
    // owner-only routes say so, and say what a DEVELOPER gets
    expect(document.paths['/api/projects/{projectId}/webhooks/{webhookId}/deliveries/{deliveryId}'].get.responses['403']).toBeDefined();
    expect(document.paths['/api/projects/{projectId}/webhooks'].get.responses['403']).toBeUndefined();
  });

  it('documents each request body and query with exactly the fields the validation accepts, and which are required', () => {
    const bodies = { CreateIssueDto, ApprovalDto, ApprovalStepDto, SendBackDto, UpdateIssueDto, ChangeIssueStatusDto, ChangeTaskStatusDto, CommentDto, CreateProjectDto, UpdateProjectDto, SetMemberDto, CreateUserDto, CreateWebhookDto, UpdateWebhookDto, RecoverDto, ContactDto, ReplayDto, CoalesceDto };
    const validated = (dto: Function) => {
      const metas = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
      const fields = [...new Set(metas.map((m) => m.propertyName))].sort();
      const optional = new Set(metas.filter((m) => m.type === 'conditionalValidation').map((m) => m.propertyName));
      return { fields, required: fields.filter((f) => !optional.has(f)) };
    };
    for (const [name, dto] of Object.entries(bodies)) {
      const schema = document.components.schemas[name];
      expect({ name, fields: Object.keys(schema.properties).sort(), required: [...(schema.required ?? [])].sort() }).toEqual({ name, ...validated(dto) });
    }
    const queries: [string, string, Function][] = [
      ['/api/projects/{projectId}/issues', 'get', ListIssuesQueryDto],
      ['/api/projects', 'get', PageQuery],
      ['/api/projects/{projectId}/audit', 'get', PageQuery],
      ['/api/projects/{projectId}/webhooks/{webhookId}/deliveries', 'get', ListDeliveriesQueryDto],
      ['/api/events', 'get', EventFeedQueryDto],
    ];
    for (const [path, method, dto] of queries) {
      const documented = document.paths[path][method].parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name).sort();
      expect({ path, query: documented }).toEqual({ path, query: validated(dto).fields });
    }
  });

  it('serves the UI at /docs with its assets from Herald itself (no CDN)', async () => {
    const page = await t.http.get('/docs').expect(200).expect('content-type', /html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      await t.http.get(new URL(asset, 'http://herald.test/docs').pathname).expect(200);
    }
  });
});

describe('OpenAPI conformance: real answers of a whole workflow match the document', () => {
  let t: TestApp;
  let receiver: Receiver;
  let conformance: OpenApiConformance;
  const problems: string[] = [];
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');

  /** One request as a client would send it; its answer is checked against the document. */
  const call = async (method: 'get' | 'post' | 'patch' | 'put' | 'delete', path: string, options: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string } = {}) => {
    let request = t.http[method](path);
    if (options.token !== null) request = request.set('Authorization', `Bearer ${options.token ?? t.auth.Authorization.slice(7)}`);
    for (const [name, value] of Object.entries(options.headers ?? {})) request = request.set(name, value);
    const res = options.raw !== undefined ? await request.send(options.raw) : await request.send(options.body as object);
    const contentType = res.headers['content-type'];
    problems.push(...conformance.check(method, path, res.status, contentType, /json/.test(contentType ?? '') ? res.body : res.text));
    return res;
  };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    t = await startTestApp({ clock, env: LOCAL_WEBHOOK_ENV });
    conformance = new OpenApiConformance((await t.http.get('/docs-json')).body);
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  it('every answer, success or error, has a documented status, content type and shape', async () => {
    const deliver = async () => {
      await t.app.get(WebhookSubscription).catchUp();
      return t.app.get(DeliveryDispatcher).runOnce();
    };
    await call('get', '/health/live');
    await call('get', '/health/ready');
    await call('get', '/metrics');
    const dev = (await call('post', '/api/users', { body: { name: 'Dev', email: 'dev@example.com' } })).body;
    await call('post', '/api/users', { body: { name: 'Dev', email: 'dev@example.com' } }); // 409
    await call('post', '/api/users', { body: { name: '', email: 'not-an-email', extra: 1 } }); // 400
    await call('get', '/api/users/me', { token: null }); // 401
    await call('get', '/api/users/me', { token: dev.token });
    await call('get', '/api/webhook-types', { token: dev.token });
    const token = (await call('post', `/api/users/${dev.id}/tokens`)).body;
    await call('get', `/api/users/${dev.id}/tokens`);
    await call('delete', `/api/users/${dev.id}/tokens/${token.id}`);
    await call('get', `/api/users/${dev.id}/tokens`, { token: token.token }); // 401 revoked
    await call('patch', `/api/users/${dev.id}`, { body: { phone: '+86 138 0000 0000', slackMemberId: 'U024BE7LH' }, token: dev.token });
    await call('patch', `/api/users/${dev.id}`, { body: { phone: '12345', wecomUserId: '<@all>' } }); // 400
    await call('patch', '/api/users/1', { body: { phone: null } }); // 403 the System Bot

    const project = (await call('post', '/api/projects', { body: { name: 'Payments', key: 'PAY' } })).body;
    await call('post', '/api/projects', { body: { name: 'Other', key: 'PAY' } }); // 409
    await call('get', '/api/projects?limit=1');
    await call('get', '/api/projects?cursor=%00'); // 400
    await call('get', `/api/projects/${project.id}`);
    await call('patch', `/api/projects/${project.id}`, { body: { name: 'Payments 2' }, headers: { 'If-Match': 'W/"999"' } }); // 412
    await call('patch', `/api/projects/${project.id}`, { body: { name: 'Payments 2' } });
    await call('get', '/api/im-app-types', { token: dev.token });
    await call('put', `/api/projects/${project.id}/im-apps/SLACK`, { body: { credentials: { botToken: 'xoxb-1111-2222-abcdefghijkl' } } });
    await call('put', `/api/projects/${project.id}/im-apps/SLACK`, { body: { credentials: { botToken: 'nope' } } }); // 400
    await call('get', `/api/projects/${project.id}/im-apps`);
    await call('delete', `/api/projects/${project.id}/im-apps/SLACK`);
    await call('put', `/api/projects/${project.id}/members/${dev.id}`, { body: { role: 'DEVELOPER' } });
    await call('get', `/api/projects/${project.id}/members`);
    await call('get', `/api/projects/${project.id}/members`, { token: dev.token });
    await call('get', `/api/projects/${project.id}/audit`, { token: dev.token }); // 403
    await call('get', '/api/projects/999/members'); // 404

    const hook = (
      await call('post', `/api/projects/${project.id}/webhooks`, {
        body: { type: 'CUSTOM', name: 'ci', url: receiver.url(), activityTypes: ['bb.issue.create', 'bb.pipeline.task.status.update', 'bb.issue.comment.create'], signingSecret: 'whsec_' + Buffer.alloc(24, 7).toString('base64'), headers: { 'x-team': 'payments' } },
      })
    ).body;
    await call('post', `/api/projects/${project.id}/webhooks`, { body: { type: 'CUSTOM', name: 'again', url: receiver.url(), activityTypes: ['bb.issue.create'] } }); // 409
    await call('post', `/api/projects/${project.id}/webhooks`, { body: { type: 'NOPE', name: 'x', url: 'ftp://x', activityTypes: [] } }); // 400
    await call('post', `/api/projects/${project.id}/webhooks`, { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }); // 415
    await call('post', `/api/projects/${project.id}/webhooks`, { raw: JSON.stringify({ name: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } }); // 413
    await call('get', `/api/projects/${project.id}/webhooks`, { token: dev.token });
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}`);
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/url`);
    await call('patch', `/api/projects/${project.id}/webhooks/${hook.id}`, { body: { name: 'ci-main', ordered: true } });

    const issue = (
      await call('post', `/api/projects/${project.id}/issues`, {
        body: { name: 'Add index', type: 'bb.issue.database.schema.update', pipeline: { stages: [{ name: 'test', tasks: [{ name: 'db-test' }] }, { name: 'prod', tasks: [{ name: 'db-prod' }] }] } },
      })
    ).body;
    await call('get', `/api/projects/${project.id}/issues?status=OPEN`);
    await call('get', `/api/issues/${issue.id}`);
    await call('patch', `/api/issues/${issue.id}`, { body: { assigneeId: dev.id } });
    const [testTask, prodTask] = issue.pipeline.stages.map((s: any) => s.tasks[0].id);
    await call('post', `/api/issues/${issue.id}/tasks/${prodTask}/status`, { body: { status: 'RUNNING' } }); // 409 earlier stage
    await call('post', `/api/issues/${issue.id}/tasks/${testTask}/status`, { body: { status: 'RUNNING' } });
    await call('post', `/api/issues/${issue.id}/tasks/${testTask}/status`, { body: { status: 'DONE' } });
    await call('post', `/api/issues/${issue.id}/tasks/${prodTask}/status`, { body: { status: 'DONE', skipped: true, skippedReason: 'done by hand' }, headers: { 'If-Match': 'W/"1"' } }); // 412
    const comment = (await call('post', `/api/issues/${issue.id}/comments`, { body: { content: 'ship it' }, token: dev.token })).body;
    await call('patch', `/api/issues/${issue.id}/comments/${comment.id}`, { body: { content: 'mine' } }); // 403 not the author
    await call('patch', `/api/issues/${issue.id}/comments/${comment.id}`, { body: { content: 'ship it now' }, token: dev.token });
    await call('get', `/api/issues/${issue.id}/comments`);
    await call('get', `/api/issues/${issue.id}/events`);
    await call('post', `/api/issues/${issue.id}/status`, { body: { status: 'DONE' } }); // 409 unfinished
    await call('post', `/api/issues/${issue.id}/status`, { body: { status: 'CANCELED', comment: 'not now' } });
    await call('get', '/api/issues/abc'); // 400

    // approval: the project's default steps hold a new issue's tasks until the issue is approved
    await call('patch', `/api/projects/${project.id}`, { body: { approvalSteps: [{ approvers: [dev.id] }, { role: 'OWNER' }] } });
    await call('patch', `/api/projects/${project.id}`, { body: { approvalSteps: [{ approvers: [999] }] } }); // 400 no such user
    const held = (await call('post', `/api/projects/${project.id}/issues`, { body: { name: 'Drop column', type: 'bb.issue.database.schema.update', pipeline: { stages: [{ name: 'prod', tasks: [{ name: 'db' }] }] } } })).body;
    await call('post', `/api/issues/${held.id}/tasks/${held.pipeline.stages[0].tasks[0].id}/status`, { body: { status: 'PENDING' } }); // 409 held
    await call('post', `/api/issues/${held.id}/approval/approve`); // 403 not an approver of step 1
    await call('post', `/api/issues/${held.id}/approval/send-back`, { body: {}, token: dev.token }); // 400 no reason
    await call('post', `/api/issues/${held.id}/approval/send-back`, { body: { reason: 'needs a rollback plan' }, token: dev.token });
    await call('post', `/api/issues/${held.id}/approval/request`);
    await call('post', `/api/issues/${held.id}/approval/approve`, { token: dev.token });
    await call('post', `/api/issues/${held.id}/approval/approve`);
    await call('post', `/api/issues/${held.id}/approval/request`); // 409 complete
    await call('get', `/api/issues/${held.id}`);

    // deliveries: the first attempt fails with a body, the redelivery succeeds
    receiver.answer({ status: 500, body: '{"error":"boom"}', headers: { 'content-type': 'application/json' } }, { status: 200, body: 'ok' });
    expect(await deliver()).toBeGreaterThan(0);
    const deliveries = (await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries?limit=2`)).body;
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries?status=BROKEN`); // 400
    const first = deliveries.items[deliveries.items.length - 1].id;
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first}`);
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first}`, { token: dev.token }); // 403
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first}/redeliver`);
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/recover`, { body: { since: '2026-03-01T00:00:00Z' } });
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/recover`, { body: { since: 'yesterday' } }); // 400
    clock.advance(3_600_000);
    await deliver();
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/${first}`);
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/test`);
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/msg_nope`); // 404
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/deliveries/hourly`);

    // issue 15: why each event went or not, a dry run, a replay and its progress
    await call('get', `/api/issues/${issue.id}/webhook-decisions`, { token: dev.token });
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/replay`, { body: { from: 'position:1', dryRun: true } });
    await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/replay`, { body: { from: 'last week' } }); // 400
    const replay = (await call('post', `/api/projects/${project.id}/webhooks/${hook.id}/replay`, { body: { from: 'position:1', includeDelivered: true } })).body;
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/replays/${replay.replayId}`, { token: dev.token });
    await call('get', `/api/projects/${project.id}/webhooks/${hook.id}/replays/rpl_nope`); // 404
    // issue 23: a filter tried before it is saved
    await call('post', `/api/projects/${project.id}/webhooks/filter-trial`, { body: { filter: 'level == "INFO"', limit: 5 } });
    await call('post', `/api/projects/${project.id}/webhooks/filter-trial`, { body: { filter: 'levle == "INFO"' } }); // 400

    await call('get', `/api/projects/${project.id}/audit?limit=2`);
    await call('get', '/api/events?after=0&limit=5');
    await call('get', '/api/events', { token: dev.token }); // 403
    await call('post', '/api/admin/projections/rebuild');
    await call('get', '/api/admin/projections/rebuild');
    await call('post', '/api/admin/projections/rebuild'); // 409 while it runs, or 202 once it is done
    await call('post', '/api/admin/secrets/reseal');
    await call('delete', `/api/projects/${project.id}/members/${dev.id}`);
    await call('delete', `/api/projects/${project.id}/webhooks/${hook.id}`);

    expect(problems).toEqual([]);
    // the walk above reached every documented operation
    const reached = new Set([...conformance.checked].map((c) => c.split(' ').slice(0, 2).join(' ')));
    const operations = Object.entries(conformance.document.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.filter((o) => !reached.has(o))).toEqual([]);
    for (const status of ['400', '401', '403', '404', '409', '412', '413', '415']) expect([...conformance.checked].some((c) => c.endsWith(` ${status}`))).toBe(true);
  });

  it('notices an answer that does not match (the check can fail)', () => {
    expect(conformance.check('get', '/api/issues/1', 200, 'application/json', { id: 'one' })).not.toEqual([]);
    expect(conformance.check('get', '/api/issues/1', 418, 'application/json', {})).not.toEqual([]);
    expect(conformance.check('get', '/api/nowhere', 200, 'application/json', {})).not.toEqual([]);
    expect(conformance.check('get', '/api/issues/1', 404, 'text/html', '<p>')).not.toEqual([]);
  });
});
