import { useTestApp } from '../support/test-app.js';

/*
 * The approval's input rules over HTTP: who may give an issue its own steps, who may be an
 * approver, the shape of a step; and users' contact handles.
 */

describe('approval input over HTTP', () => {
  const t = useTestApp();
  const tokens: Record<string, string> = {};
  const ids: Record<string, number> = {};
  const as = (who: string) => (who === 'admin' ? t.auth : { Authorization: `Bearer ${tokens[who]}` });
  const issue = (who: string, body: object) => t.http.post(`/api/projects/${ids.project}/issues`).set(as(who)).send({ name: 'x', type: 'bb.issue.general', ...body });

  beforeAll(async () => {
    for (const who of ['dev', 'owner', 'stranger']) {
      const user = (await t.http.post('/api/users').set(t.auth).send({ name: who, email: `${who}@example.com` }).expect(201)).body;
      tokens[who] = user.token;
      ids[who] = user.id;
    }
    ids.project = (await t.http.post('/api/projects').set(as('owner')).send({ name: 'Rules' }).expect(201)).body.id;
    await t.http.put(`/api/projects/${ids.project}/members/${ids.dev}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
  });

  it('lets anyone add an approval while the project has none', async () => {
    const created = (await issue('dev', { approval: { steps: [{ approvers: [ids.owner] }] } }).expect(201)).body;
    expect(created.approval).toMatchObject({ status: 'PENDING', currentApprovers: [ids.owner] });
    expect((await issue('dev', {}).expect(201)).body.approval).toBeNull();
  });

  it('gives new issues the project’s default, which only its OWNERs may replace', async () => {
    await t.http.patch(`/api/projects/${ids.project}`).set(as('dev')).send({ approvalSteps: [] }).expect(403);
    await t.http.patch(`/api/projects/${ids.project}`).set(as('owner')).send({ approvalSteps: [{ role: 'OWNER' }] }).expect(200);
    expect((await issue('dev', {}).expect(201)).body.approval).toMatchObject({ steps: [{ role: 'OWNER', approvers: null }], currentApprovers: [ids.owner] });
    const refused = await issue('dev', { approval: { steps: [{ approvers: [ids.dev] }] } }).expect(403);
    expect(refused.body.detail).toMatch(/only its OWNERs may give an issue other steps/);
    expect((await issue('owner', { approval: { steps: [{ approvers: [ids.dev] }] } }).expect(201)).body.approval.currentApprovers).toEqual([ids.dev]);
    await t.http.patch(`/api/projects/${ids.project}`).set(as('owner')).send({ approvalSteps: [] }).expect(200);
    expect((await issue('dev', {}).expect(201)).body.approval).toBeNull();
  });

  it('refuses approvers who could never approve: unknown users and non-members, naming the step', async () => {
    const stranger = await issue('owner', { approval: { steps: [{ role: 'OWNER' }, { approvers: [ids.stranger] }] } }).expect(400);
    expect(stranger.body.errors).toEqual([{ field: 'approval.steps.1.approvers', message: `user ${ids.stranger} is not a member of project ${ids.project}` }]);
    const unknown = await t.http.patch(`/api/projects/${ids.project}`).set(as('owner')).send({ approvalSteps: [{ approvers: [999] }] }).expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'approvalSteps.0.approvers', message: 'user 999 does not exist' }]);
    // an admin may approve any project's issues, member or not
    const admin = (await t.http.get('/api/users/me').set(t.auth).expect(200)).body.id;
    await issue('owner', { approval: { steps: [{ approvers: [admin] }] } }).expect(201);
  });

  it('takes a step of either approvers or a role, never both or neither', async () => {
    const both = await issue('owner', { approval: { steps: [{ approvers: [ids.dev], role: 'OWNER' }] } }).expect(400);
    expect(both.body.errors).toContainEqual({ field: 'approval.steps.0.role', message: 'a step has either approvers or a role, not both' });
    const neither = await issue('owner', { approval: { steps: [{}] } }).expect(400);
    expect(neither.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['approval.steps.0.approvers']));
    await issue('owner', { approval: { steps: [] } }).expect(400);
    await issue('owner', { approval: { steps: [{ approvers: [ids.dev, ids.dev] }] } }).expect(400);
    await issue('owner', { approval: { steps: [{ role: 'DEVELOPER' }] } }).expect(400);
  });
});

describe('contact handles over HTTP', () => {
  const t = useTestApp();
  let user: { id: number; token: string };
  const patch = (body: object, expected = 200) =>
    t.http.patch(`/api/users/${user.id}`).set({ Authorization: `Bearer ${user.token}` }).send(body).expect(expected).then((r) => r.body);

  beforeAll(async () => {
    user = (await t.http.post('/api/users').set(t.auth).send({ name: 'Li', email: 'li@example.com', phone: '+86 138-0000-0000' }).expect(201)).body;
  });

  it('stores a phone as E.164, sets and removes handles, and keeps what a change leaves out', async () => {
    expect((await t.http.get('/api/users/me').set({ Authorization: `Bearer ${user.token}` })).body).toMatchObject({ phone: '+8613800000000', slackMemberId: null, wecomUserId: null });
    expect(await patch({ slackMemberId: 'U024BE7LH', wecomUserId: 'li.wei' })).toMatchObject({ phone: '+8613800000000', slackMemberId: 'U024BE7LH', wecomUserId: 'li.wei' });
    expect(await patch({ phone: null })).toMatchObject({ phone: null, slackMemberId: 'U024BE7LH', wecomUserId: 'li.wei' });
    const events = (await t.http.get('/api/events?limit=1000').set(t.auth)).body.filter((e: { type: string }) => e.type === 'user.contact-set');
    await patch({ slackMemberId: 'U024BE7LH' });
    expect((await t.http.get('/api/events?limit=1000').set(t.auth)).body.filter((e: { type: string }) => e.type === 'user.contact-set')).toHaveLength(events.length);
  });

  it('refuses handles of the wrong shape, naming each field', async () => {
    const refused = await patch({ phone: '12345', slackMemberId: '<!channel>', wecomUserId: 'all' }, 400);
    // (a handle may break two rules: "<!channel>" is no Slack member id, and a mention of everyone)
    expect([...new Set(refused.errors.map((e: { field: string }) => e.field))].sort()).toEqual(['phone', 'slackMemberId', 'wecomUserId']);
    await patch({ wecomUserId: '<@all>' }, 400);
  });

  it('refuses every spelling of a mention of everyone, in every handle, naming the field and the rule, and keeps the handle it had', async () => {
    await patch({ wecomUserId: 'li.wei', slackMemberId: 'U024BE7LH' });
    // the audit's request: WeCom renders a userid as <@userid>, so "@all" became <@@all>
    const audit = await t.http.patch(`/api/users/${user.id}`).set({ Authorization: `Bearer ${user.token}` }).send({ wecomUserId: '@all' }).expect(400);
    expect(audit.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(audit.body.errors).toEqual([{ field: 'wecomUserId', message: expect.stringMatching(/^wecomUserId must not be a mention of everyone/) }]);
    const spellings = ['all', '@all', '@ALL', 'All', '@@all', ' @all ', '＠ａｌｌ', '@everyone', '@here', '@channel', 'everyone', 'here', 'channel', '<!channel>', '<!here>', '<!everyone>', '<@all>', '所有人'];
    for (const field of ['wecomUserId', 'slackMemberId', 'phone']) {
      for (const spelling of spellings) {
        const refused = await patch({ [field]: spelling }, 400);
        expect({ spelling, errors: refused.errors }).toEqual({ spelling, errors: expect.arrayContaining([{ field, message: expect.stringMatching(new RegExp(`^${field} must not be a mention of everyone`)) }]) });
      }
    }
    // on creation too
    const created = await t.http.post('/api/users').set(t.auth).send({ name: 'Al', email: 'al@example.com', wecomUserId: '@All' }).expect(400);
    expect(created.body.errors).toEqual([{ field: 'wecomUserId', message: expect.stringMatching(/must not be a mention of everyone/) }]);
    // nothing changed; userids that merely contain the words stay valid
    expect((await t.http.get('/api/users/me').set({ Authorization: `Bearer ${user.token}` })).body).toMatchObject({ slackMemberId: 'U024BE7LH', wecomUserId: 'li.wei' });
    expect(await patch({ wecomUserId: 'alla' })).toMatchObject({ wecomUserId: 'alla' });
    expect(await patch({ wecomUserId: 'here.we.go' })).toMatchObject({ wecomUserId: 'here.we.go' });
  });

  it('lets only the user and admins change them', async () => {
    const other = (await t.http.post('/api/users').set(t.auth).send({ name: 'Mo', email: 'mo@example.com' }).expect(201)).body;
    await t.http.patch(`/api/users/${user.id}`).set({ Authorization: `Bearer ${other.token}` }).send({ phone: null }).expect(404);
    await t.http.patch(`/api/users/${user.id}`).set(t.auth).send({ wecomUserId: 'li' }).expect(200);
  });
});
