import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { systemClock } from '../../src/shared/clock.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, ADMIN_TOKEN, type TestApp } from '../support/test-app.js';

/**
 * The delivery console in a real browser (Debian's chromium, headless) against the whole
 * service listening on a port, with the background subscription and dispatcher on and
 * real HTTP to a local receiver. Waits poll (locators, the API); nothing sleeps.
 */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const OUTPUT = join(process.cwd(), 'test-output');
const WAIT = { timeout: 10_000 };
const refused = { status: 400, body: '{"error":"invalid_payload","message":"channel_not_found"}', headers: { 'content-type': 'application/json' } };
const ok = { status: 200, body: '{"code":0,"message":"ok"}', headers: { 'content-type': 'application/json' } };
const ACTION_NAMES = ['Send test', 'Re-enable', 'Recover', 'Redeliver', 'New webhook', 'Edit', 'Create webhook', 'Save changes'];

async function until<T>(probe: () => Promise<T | undefined | false | null>, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('delivery console (headless chromium)', () => {
  let t: TestApp;
  let a: ReturnType<typeof api>;
  let receiver: Receiver;
  let browser: Browser;
  let base: string;
  let projectId: number;
  let hookId: number;
  let developerToken: string;
  let failedId: string;
  let issueId: number;
  /** Everything each page asked for, and everything it complained about. */
  const requests: string[] = [];
  const problems: string[] = [];

  const deliveries = async () => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries`)).items as { id: string; status: string }[];

  async function open(options: { token: string; viewport?: { width: number; height: number } }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    // script errors and CSP violations (a refused answer is logged as an error too: those the tests ask for are expected)
    page.on('console', (message) => {
      if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of (400|401|404)\b/.test(message.text())) problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 500 || (new URL(response.url()).pathname.startsWith('/console') && response.status() !== 200)) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/console`);
    await page.getByLabel('API token').fill(options.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor(WAIT);
    return { context, page };
  }

  // expressions run in the page (the tests' TypeScript has no DOM types)
  const noHorizontalOverflow = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    receiver = await new Receiver().start();
    receiver.answer(refused);
    t = await startTestApp({ clock: systemClock, env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true' } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    a = api(t);
    projectId = (await a.createProject('Ops')).id;
    hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'chat-relay', url: receiver.url(), activityTypes: ['bb.issue.create'] }, 201)).id;
    const developer = await a.post('/api/users', { name: 'Dee Developer', email: 'dee@example.com' }, 201);
    developerToken = developer.token;
    await t.http.put(`/api/projects/${projectId}/members/${developer.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
    // the receiver refuses the first message for good: a failed delivery to look into
    issueId = (await a.createIssue(projectId, { name: 'Rotate the keys' })).id;
    failedId = (await until(async () => (await deliveries()).find((d) => d.status === 'FAILED'), 'the failed delivery')).id;
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.stop();
  });

  afterEach(() => {
    // no script error and no CSP violation on any page; every request went to Herald itself
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
  });

  it('refuses a wrong token and keeps a right one in session storage only', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(`${base}/console`);
    // the page runs under its own strict policy: no inline code, nothing from elsewhere
    expect(response?.headers()['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token is not valid.').waitFor(WAIT);
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor(WAIT);
    expect(await page.evaluate('({ session: Object.values(sessionStorage), local: localStorage.length, cookies: document.cookie })')).toEqual({ session: [ADMIN_TOKEN], local: 0, cookies: '' });
    await context.close();
  });

  it('an owner finds why a webhook fails, redelivers once the receiver is fixed, and sees new deliveries arrive', async () => {
    const { context, page } = await open({ token: ADMIN_TOKEN });
    await page.getByRole('link', { name: 'Ops' }).click();
    const card = page.locator(`li[data-webhook="${hookId}"]`);
    await card.getByText('HTTP 400').first().waitFor(WAIT); // the last error, on the list already
    await card.getByRole('link', { name: 'chat-relay' }).click();
    await page.getByRole('heading', { name: 'chat-relay', level: 1 }).waitFor(WAIT);
    expect(await page.locator('svg.chart').getAttribute('role')).toBe('img');
    expect(await page.locator('.chart-figure').innerText()).toContain('1 failed');

    // the failed delivery → its attempt: what the receiver answered
    const row = page.locator(`tr[data-delivery="${failedId}"]`);
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('FAILED');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: `Delivery ${failedId}`, level: 1 }).waitFor(WAIT);
    const response = page.getByLabel('Response body of attempt 1');
    expect(JSON.parse(await response.innerText())).toEqual({ error: 'invalid_payload', message: 'channel_not_found' });
    expect(await response.innerText()).toContain('\n  "message": "channel_not_found"'); // pretty-printed
    expect(JSON.parse(await page.getByLabel('Request body of attempt 1').innerText())).toMatchObject({ activity_type: 'bb.issue.create' });

    // the receiver is fixed: redeliver, and watch it turn delivered without a reload
    receiver.answer(ok);
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.locator('.badges [data-status="DELIVERED"]').waitFor(WAIT);
    await page.getByRole('heading', { name: /Attempt 2 of 2: delivered/ }).waitFor(WAIT);
    expect(await page.getByLabel('Response body of attempt 2').innerText()).toContain('"message": "ok"');
    await page.screenshot({ path: join(OUTPUT, 'console-delivery.png'), fullPage: true });
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === failedId)).toHaveLength(2);

    // live: a new delivery shows up in the open list by itself
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'chat-relay' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor(WAIT);
    expect(await page.locator('tr[data-delivery]').count()).toBe(1);
    await a.createIssue(projectId, { name: 'Second thoughts' });
    await page.locator('tr[data-delivery]').nth(1).waitFor(WAIT);
    await page.locator('tr[data-delivery] [data-status="DELIVERED"]').nth(1).waitFor(WAIT);
    await page.getByLabel('Status', { exact: true }).selectOption('FAILED');
    await page.getByText('No deliveries.').waitFor(WAIT);

    // the other actions answer in the status line
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('status').filter({ hasText: /^Test delivered: HTTP 200 in \d+ ms\.$/ }).waitFor(WAIT);
    await page.getByLabel('Recover deliveries created since').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '0 deliveries queued again.' }).waitFor(WAIT);
    await context.close();
  });

  it('shows the API’s validation messages on the webhook form, then creates and edits', async () => {
    const { context, page } = await open({ token: ADMIN_TOKEN });
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Type').selectOption('SLACK');
    await page.getByLabel('Name').fill('team room');
    await page.getByLabel('URL', { exact: true }).fill('https://example.com/not-slack');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const urlError = page.locator('#url-error');
    await urlError.filter({ hasText: 'not allowed for SLACK' }).waitFor(WAIT);
    expect(await page.getByLabel('URL', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate("document.activeElement?.classList.contains('error-summary')")).toBe(true);

    await page.getByLabel('Type').selectOption('CUSTOM');
    // the type's help comes from the server's registry: how a Custom receiver's answer is read
    await page.locator('#url-hint').filter({ hasText: 'Any 2xx answer counts as delivered, unless its body is JSON with a code other than 0' }).waitFor(WAIT);
    expect(await page.locator('#type option').allTextContents()).toContain('Microsoft Teams');
    await page.getByLabel('URL', { exact: true }).fill(receiver.url('/second'));
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'team room', level: 1 }).waitFor(WAIT);

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit team room', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Name').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#name-error').filter({ hasText: /name/ }).waitFor(WAIT);
    await page.getByLabel('Name').fill('team room (renamed)');
    const patch = page.waitForRequest((request) => request.method() === 'PATCH', WAIT);
    await page.getByRole('button', { name: 'Save changes' }).click();
    // only what changed is sent (`active: true` would re-enable a disabled webhook)
    expect((await patch).postDataJSON()).toEqual({ name: 'team room (renamed)' });
    await page.getByRole('heading', { name: 'team room (renamed)', level: 1 }).waitFor(WAIT);
    await context.close();
  });

  it('tries a filter on the project’s last activities, shows a refused one’s position in place, and saves a filter and a coalescing window', async () => {
    const { context, page } = await open({ token: ADMIN_TOKEN });
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook', level: 1 }).waitFor(WAIT);
    // Custom bodies carry one activity each: no window to set; DingTalk's robot coalesces by default
    expect(await page.locator('[data-field="coalesce"]').isHidden()).toBe(true);
    await page.getByLabel('Type').selectOption('DINGTALK');
    await page.locator('#coalesce-hint').filter({ hasText: 'this type’s default (60 s)' }).waitFor(WAIT);
    // someone moving from Bytebase is told that this is new, and how to keep one message per activity
    expect(await page.locator('#coalesce-hint').textContent()).toContain('Moving from Bytebase? It sent one message per activity; this type coalesces by default');
    expect(await page.locator('#coalesce-hint').textContent()).toContain('set 0 to keep one message per activity');

    await page.getByLabel('Filter', { exact: true }).fill('levle == "ERROR"');
    await page.getByRole('button', { name: 'Try it on recent activities' }).click();
    await page.locator('#filter-error').filter({ hasText: /^at position 0: .*levle/ }).waitFor(WAIT);
    expect(await page.locator('#filter-where mark').textContent()).toBe('l');
    expect(await page.getByLabel('Filter', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Filter', { exact: true }).fill('activity_type == "bb.issue.create" && issue.name.contains("keys")');
    await page.getByRole('button', { name: 'Try it on recent activities' }).click();
    // the project's one issue about keys was created once; other activities are filtered out
    await page.getByText(/^Lets through 1 of the last \d+ activities \([\d,]+ of 3,000,000 steps at most\)\.$/).waitFor(WAIT);
    expect(await page.locator('.filter-trial tbody tr', { hasText: /^Sent/ }).allInnerTexts()).toEqual([expect.stringMatching(/^Sent\s+Issue created - Rotate the keys/)]);
    expect(await page.locator('#filter-where').isHidden()).toBe(true);

    // a filter too costly for its budget is refused on saving, its position marked
    await page.getByLabel('Name').fill('robot');
    await page.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${receiver.port}/robot/send?access_token=t`);
    await page.getByLabel('Filter', { exact: true }).fill('level == "ERROR" || description.split("").exists(c, c == "!")');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.locator('#filter-error').filter({ hasText: /^at position 20: .*over the budget of 3,000,000/ }).waitFor(WAIT);
    expect(await page.locator('#filter-where mark').textContent()).toBe('d');
    await page.locator('.error-summary a[data-focus="filter"]').click();
    expect(await page.evaluate("[document.activeElement?.id, document.activeElement?.selectionStart]")).toEqual(['filter', 20]);

    await page.getByLabel('Filter', { exact: true }).fill('level == "ERROR"');
    await page.getByLabel('Coalescing window (seconds)').fill('30');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'robot', level: 1 }).waitFor(WAIT);
    const robot = (await a.get(`/api/projects/${projectId}/webhooks`)).find((w: { name: string }) => w.name === 'robot');
    expect(robot).toMatchObject({ type: 'DINGTALK', filter: 'level == "ERROR"', coalesce: { windowSeconds: 30 } });

    // an edit shows both, and removing the filter sends null, nothing else
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit robot', level: 1 }).waitFor(WAIT);
    expect(await page.getByLabel('Filter', { exact: true }).inputValue()).toBe('level == "ERROR"');
    expect(await page.getByLabel('Coalescing window (seconds)').inputValue()).toBe('30');
    await page.getByLabel('Filter', { exact: true }).fill('');
    const patch = page.waitForRequest((request) => request.method() === 'PATCH', WAIT);
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect((await patch).postDataJSON()).toEqual({ filter: null });
    await page.getByRole('heading', { name: 'robot', level: 1 }).waitFor(WAIT);
    await context.close();
  });

  it('says a Teams URL of a retired kind is retired, and what to use instead, on the list, the page and the form', async () => {
    const connector = 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456';
    const hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'TEAMS', name: 'old teams', url: connector, activityTypes: ['bb.pipeline.stage.status.update'], active: false }, 201)).id;
    const { context, page } = await open({ token: ADMIN_TOKEN });
    await page.goto(`${base}/console#/projects/${projectId}`);
    const card = page.locator(`li[data-webhook="${hookId}"]`);
    await card.locator('[data-retired="TEAMS_O365_CONNECTOR"]').filter({ hasText: /^Retired\. Office 365 connector URLs are retired/ }).waitFor(WAIT);
    expect(await card.locator('[data-retired]').textContent()).toContain('Use instead: https://*.environment.api.powerplatform.com/…');
    await card.getByRole('link', { name: 'old teams' }).click();
    await page.getByRole('heading', { name: 'old teams', level: 1 }).waitFor(WAIT);
    await page.locator('[data-retired="TEAMS_O365_CONNECTOR"]').waitFor(WAIT);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.locator('#url-hint').filter({ hasText: 'This URL kind is retired: Office 365 connector URLs are retired' }).waitFor(WAIT);
    await context.close();
    await t.http.delete(`/api/projects/${projectId}/webhooks/${hookId}`).set(t.auth).expect(204);
  });

  it('shows a disabled webhook as disabled, and re-enables it', async () => {
    const gone = await new Receiver().start();
    gone.answer({ status: 410, body: 'this hook was removed' });
    const retired = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'retired', url: gone.url(), activityTypes: ['bb.issue.comment.create'] }, 201)).id;
    await a.comment(issueId, 'anyone there?');
    await until(async () => (await a.get(`/api/projects/${projectId}/webhooks/${retired}`)).state === 'DISABLED', 'the webhook to be disabled');
    const { context, page } = await open({ token: ADMIN_TOKEN });
    await page.getByRole('link', { name: 'Ops' }).click();
    const card = page.locator(`li[data-webhook="${retired}"]`);
    await card.getByText('Disabled', { exact: true }).waitFor(WAIT);
    await card.getByRole('link', { name: 'retired' }).click();
    await page.getByRole('button', { name: 'Re-enable' }).click();
    await page.getByText('Active', { exact: true }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Re-enable' }).waitFor({ state: 'detached', ...WAIT });
    expect(await a.get(`/api/projects/${projectId}/webhooks/${retired}`)).toMatchObject({ active: true, state: 'ACTIVE', consecutiveFailures: 0 });
    await context.close();
    await gone.stop();
  });

  it('a DEVELOPER reads the webhook and its delivery log, with no action buttons and no request bodies', async () => {
    const { context, page } = await open({ token: developerToken });
    await page.getByRole('link', { name: 'Ops' }).click();
    await page.getByRole('link', { name: 'chat-relay' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor(WAIT);
    await page.locator(`tr[data-delivery="${failedId}"]`).waitFor(WAIT);
    await page.getByText('Your role: developer').waitFor(WAIT);
    for (const name of ACTION_NAMES) {
      expect({ name, buttons: await page.getByRole('button', { name, exact: true }).count(), links: await page.getByRole('link', { name, exact: true }).count() }).toEqual({ name, buttons: 0, links: 0 });
    }
    expect(await page.locator('tr[data-delivery] a').count()).toBe(0); // no way into the detail
    // and by its address: no request is made for it, nothing of it is shown
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/${hookId}/deliveries/${failedId}`);
    await page.getByText('Only the project’s owners can read').waitFor(WAIT);
    expect(await page.locator('pre.body').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    expect(asked.filter((path) => path.endsWith(`/deliveries/${failedId}`))).toEqual([]);
    expect(await page.locator('main').innerText()).not.toContain('bb.issue.create"');
    await context.close();
  });

  it('renders every view at phone width without horizontal overflow', async () => {
    const { context, page } = await open({ token: ADMIN_TOKEN, viewport: { width: 390, height: 844 } });
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.getByRole('link', { name: 'Ops' }).click();
    await page.getByRole('heading', { name: 'Ops: webhooks' }).waitFor(WAIT);
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.getByRole('link', { name: 'chat-relay' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor(WAIT);
    await page.locator('tr[data-delivery]').first().waitFor(WAIT);
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.locator(`tr[data-delivery="${failedId}"]`).getByRole('link').click();
    await page.getByRole('heading', { name: /Attempts/ }).waitFor(WAIT);
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.screenshot({ path: join(OUTPUT, 'console-delivery-phone.png'), fullPage: true });
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook', level: 1 }).waitFor(WAIT);
    expect(await noHorizontalOverflow(page)).toBe(true);
    await context.close();
  });
});
