import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { systemClock } from '../../src/shared/clock.js';
import { api } from '../support/api.js';
import { until } from '../support/process-calls.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, ADMIN_TOKEN, type TestApp } from '../support/test-app.js';
import { SlackApi } from '../support/vendors/slack-api.js';

/** Direct messages in the console (issue 28), in headless chromium: each person's decision, and a DM's delivery page. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const OUTPUT = join(process.cwd(), 'test-output');
const WAIT = { timeout: 10_000 };

describe('console: direct messages (headless chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const channel = new Receiver();
  const slack = new SlackApi('xoxb-1111-2222-abcdefghijkl', { 'bob@example.com': 'U0BOB' });
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    await channel.start();
    channel.answer({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
    await slack.start();
    t = await startTestApp({ clock: systemClock, env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true' } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await channel.stop();
    await slack.stop();
  });

  it('shows who was told directly and who fell back to the channel, and each DM’s delivery', async () => {
    const a = api(t);
    const projectId = (await a.createProject('Reviews')).id;
    const bob = await a.post('/api/users', { name: 'Bob', email: 'bob@example.com' }, 201);
    const dave = await a.post('/api/users', { name: 'Dave', email: 'dave@elsewhere.example' }, 201);
    for (const user of [bob, dave]) await t.http.put(`/api/projects/${projectId}/members/${user.id}`).set(t.auth).send({ role: 'DEVELOPER' }).expect(200);
    await t.http.patch(`/api/projects/${projectId}`).set(t.auth).send({ approvalSteps: [{ approvers: [bob.id, dave.id] }] }).expect(200);
    await t.http.put(`/api/projects/${projectId}/im-apps/SLACK`).set(t.auth).send({ credentials: { botToken: slack.botToken }, apiBase: slack.base }).expect(200);
    const hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'SLACK', name: 'reviews', url: channel.url('/services/T/B/x'), activityTypes: ['bb.issue.approval.requested'], directMessage: true }, 201)).id;
    const issue = await a.createIssue(projectId, { name: 'Drop the old table' });
    const deliveries = async () => (await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries`)).items as { id: string; recipientId: number | null; status: string }[];
    await until(async () => (await deliveries()).filter((d) => d.status === 'DELIVERED').length === 3, 'the channel message and both DMs delivered');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/console`);
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor(WAIT);

    await page.goto(`${base}/console#/issues/${issue.id}`);
    await page.getByRole('heading', { name: `Issue ${issue.id}: webhook decisions`, level: 1 }).waitFor(WAIT);
    await page.locator('[data-dm]').first().waitFor(WAIT);
    const dms = await page.locator('[data-dm]').evaluateAll((nodes) => nodes.map((n) => [n.textContent, n.getAttribute('title')]));
    expect(dms).toEqual([
      [`user ${bob.id}: dm sent delivered`, ''],
      [`user ${dave.id}: dm fell back delivered`, expect.stringContaining('users_not_found')],
    ]);
    await page.screenshot({ path: join(OUTPUT, 'console-direct-messages.png'), fullPage: true });
    await page.locator(`[data-dm="dm-fell-back"] a`).click();
    await page.getByText(`user ${dave.id} (through the project’s IM app`).waitFor(WAIT);
    await page.getByText('fell back to the channel: look-up: Slack: users_not_found').first().waitFor(WAIT);

    // the form offers direct messages for Slack, not for a Custom endpoint
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Type').selectOption('SLACK');
    expect(await page.getByRole('checkbox', { name: /Direct messages/ }).isVisible()).toBe(true);
    await page.getByLabel('Type').selectOption('CUSTOM');
    expect(await page.getByRole('checkbox', { name: /Direct messages/ }).isVisible()).toBe(false);
    await context.close();
    expect(problems).toEqual([]);
  });
});
