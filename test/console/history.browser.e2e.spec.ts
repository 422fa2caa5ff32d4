import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { systemClock } from '../../src/shared/clock.js';
import { api } from '../support/api.js';
import { LOCAL_WEBHOOK_ENV, Receiver } from '../support/receiver.js';
import { startTestApp, ADMIN_TOKEN, type TestApp } from '../support/test-app.js';

/** The console's pages of history (issue 15) in headless chromium: an issue's decisions, and a webhook's replay with its dry run. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const OUTPUT = join(process.cwd(), 'test-output');
const WAIT = { timeout: 10_000 };

describe('console: why, and replays (headless chromium)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let browser: Browser;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    receiver = await new Receiver().start();
    t = await startTestApp({ clock: systemClock, env: { ...LOCAL_WEBHOOK_ENV, HERALD_BACKGROUND_WORKERS: 'true' } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.stop();
  });

  /** A new browser page, signed in as the admin, its script errors collected in `problems`. */
  const signedIn = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/console`);
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor(WAIT);
    return { context, page };
  };

  it('shows an issue’s decisions per webhook, and a dry run of a replay listing what it would send', async () => {
    const a = api(t);
    const projectId = (await a.createProject('Ops')).id;
    const issue = await a.createIssue(projectId, { name: 'Rotate the keys' });
    const hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'CUSTOM', name: 'relay', url: receiver.url(), activityTypes: ['bb.issue.create', 'bb.issue.comment.create'], filter: 'description != "psst"' }, 201)).id;
    await a.comment(issue.id, 'psst');
    await a.comment(issue.id, 'hello all');

    const { context, page } = await signedIn();

    await page.goto(`${base}/console#/issues/${issue.id}`);
    await page.getByRole('heading', { name: `Issue ${issue.id}: webhook decisions`, level: 1 }).waitFor(WAIT);
    const decisions = await page.locator('[data-decision]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-decision')));
    expect(decisions).toEqual(['webhook-created-later', 'filtered', 'scheduled']);
    await page.getByText('description != "psst"').first().waitFor(WAIT);
    await page.screenshot({ path: join(OUTPUT, 'console-decisions.png'), fullPage: true });

    await page.goto(`${base}/console#/projects/${projectId}/webhooks/${hookId}`);
    await page.getByRole('heading', { name: 'relay', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Replay the log since').fill('2020-01-01T00:00:00');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByText('A replay would send 1').waitFor(WAIT);
    expect(await page.locator('.replay-items li').allInnerTexts()).toEqual([expect.stringContaining('Issue created - Rotate the keys')]);
    await page.screenshot({ path: join(OUTPUT, 'console-replay.png'), fullPage: true });
    // the real run reads the log in the background: the page follows its progress until it has queued everything
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.locator('[data-state="queued"]').waitFor(WAIT);
    expect(await page.locator('[data-state="queued"]').innerText()).toMatch(/^Replay rpl_\w+: queued, read \d+ of \d+ positions, 1 queued\.$/);
    await context.close();
    expect(problems).toEqual([]);
  });

  it('previews a chat message as the room shows it, from text only, beside the raw request', async () => {
    const a = api(t);
    const projectId = (await a.createProject('Chat')).id;
    receiver.answer({ status: 200, body: '{"errcode":0,"errmsg":"ok"}', headers: { 'content-type': 'application/json' } });
    const hookId = (await a.post(`/api/projects/${projectId}/webhooks`, { type: 'DINGTALK', name: 'room', url: `http://127.0.0.1:${receiver.port}/robot/send?access_token=t`, activityTypes: ['bb.issue.create'] }, 201)).id;
    await a.createIssue(projectId, { name: 'Ship <img src=x onerror=alert(1)> **now**' });
    const delivered = async () => ((await a.get(`/api/projects/${projectId}/webhooks/${hookId}/deliveries`)).items as { id: string; status: string }[]).find((d) => d.status === 'DELIVERED');
    let delivery = await delivered();
    for (let i = 0; !delivery && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      delivery = await delivered();
    }
    const { context, page } = await signedIn();
    await page.goto(`${base}/console#/projects/${projectId}/webhooks/${hookId}/deliveries/${delivery!.id}`);
    const preview = page.locator('.preview').first();
    await preview.waitFor(WAIT);
    // the title as a heading (markdown bold as the room shows it; markup typed by a user as text), the meta lines' names in bold, the link to Herald
    expect(await preview.locator('.md-h1').innerText()).toBe('Issue created - Ship <img src=x onerror=alert(1)> now');
    expect(await preview.locator('.md-h1 strong').innerText()).toBe('now');
    expect(await preview.locator('strong').allInnerTexts()).toEqual(expect.arrayContaining(['Project Title:', 'Issue:']));
    expect(await preview.locator('img').count()).toBe(0);
    expect(await preview.getByRole('link', { name: 'View in Bytebase' }).getAttribute('href')).toMatch(/^https:\/\/herald\.example\.com\/issue\//);
    await page.screenshot({ path: join(OUTPUT, 'console-preview.png'), fullPage: true });
    await context.close();
    expect(problems).toEqual([]);
  });
});
