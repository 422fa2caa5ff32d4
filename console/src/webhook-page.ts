import { api, ApiError, DELIVERY_STATUSES, type DeliveryStatus, type DeliveryView, type HourlyDeliveries, type Page, type WebhookView } from './api.js';
import { needsReEnable, statusBadge, webhookBadges } from './badges.js';
import { hourlyChart } from './chart.js';
import { announce, details, h, time, withTimes, type Child } from './dom.js';
import { app, fail, type Screen } from './frame.js';
import { replayForm } from './history.js';
import { href, isStatus } from './routes.js';
import { accessIn, ACCESS_LABEL, action, live, webhookFacts } from './widgets.js';

const PAGE_SIZE = 20;

function deliveriesTable(projectId: number, webhookId: number, items: DeliveryView[], manage: boolean): HTMLElement {
  if (items.length === 0) return h('p', { class: 'muted' }, 'No deliveries.');
  const cell = (label: string, ...content: Child[]) => h('td', { 'data-label': label }, ...content);
  return h(
    'table',
    { class: 'deliveries' },
    h('caption', { class: 'visually-hidden' }, 'Deliveries, newest first'),
    h('thead', null, h('tr', null, ['Created', 'Activity', 'Status', 'Attempts', 'Next attempt', 'Last error'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      null,
      items.map((d) =>
        h(
          'tr',
          { 'data-delivery': d.id },
          cell('Created', manage ? h('a', { href: href.delivery(projectId, webhookId, d.id), 'data-key': `open-${d.id}` }, time(d.createdAt), h('span', { class: 'visually-hidden' }, ` (open delivery ${d.id})`)) : time(d.createdAt)),
          cell(
            'Activity',
            d.title ?? d.activityType,
            // one link per row (to the delivery): its detail links to the issue's decisions
            d.issueId !== null ? h('span', { class: 'muted' }, ` · issue ${d.issueId}`) : null,
            h('span', { class: 'muted' }, d.eventPosition === null ? ' (test)' : ` (${d.activityType})`),
          ),
          cell('Status', statusBadge(d.status)),
          cell('Attempts', String(d.attemptCount)),
          cell('Next attempt', time(d.nextAttemptAt)),
          cell('Last error', d.lastError ? h('span', { class: 'error-text' }, withTimes(d.lastError)) : '—'),
        ),
      ),
    ),
  );
}

/** Queue again the failed and skipped deliveries created since a time the owner picks. */
function recoverForm(projectId: number, webhookId: number): HTMLFormElement {
  const since = h('input', { id: 'since', name: 'since', type: 'datetime-local', required: true, step: 1, 'aria-describedby': 'since-hint since-error' });
  const sinceError = h('p', { id: 'since-error', class: 'field-error' });
  const recover = h(
    'form',
    { class: 'recover', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'since' }, 'Recover deliveries created since'), h('p', { id: 'since-hint', class: 'hint' }, 'Failed and skipped deliveries created since then (your local time) are queued again.'), since, sinceError),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Recover')),
  );
  recover.addEventListener('submit', (event) => {
    event.preventDefault();
    sinceError.textContent = '';
    since.removeAttribute('aria-invalid');
    const when = since.value ? new Date(since.value) : null;
    if (!when || Number.isNaN(when.getTime())) {
      sinceError.textContent = 'Enter a date and time.';
      since.setAttribute('aria-invalid', 'true');
      since.focus();
      return;
    }
    api
      .recover(projectId, webhookId, when.toISOString())
      .then(({ requeued }) => {
        announce(`${requeued} ${requeued === 1 ? 'delivery' : 'deliveries'} queued again.`);
        return app.current?.refresh?.();
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 400) {
          sinceError.textContent = (e.fieldErrors().get('since') ?? [e.message]).join('; ');
          since.setAttribute('aria-invalid', 'true');
          since.focus();
        } else fail(e);
      });
  });
  return recover;
}

/** A webhook: its settings and health, its owners' actions, its last 24 hours, its deliveries page by page; kept up to date. */
export async function webhookPage(projectId: number, webhookId: number, initialStatus: DeliveryStatus | ''): Promise<Screen> {
  const [project, access, hook, stats] = await Promise.all([api.project(projectId), accessIn(projectId), api.webhook(projectId, webhookId), api.hourly(projectId, webhookId)]);
  const manage = access !== 'DEVELOPER';

  const info = h('div');
  const drawInfo = live(info, (hk: WebhookView) => [
    webhookBadges(hk),
    details([
      ...webhookFacts(hk),
      ['Signing secret', hk.hasSigningSecret ? 'set' : 'none'],
      ['Custom headers', hk.headerNames.length > 0 ? hk.headerNames.join(', ') : 'none'],
      ['Ordered', hk.ordered ? 'yes' : 'no'],
      ['Filter', hk.filter ? h('code', null, hk.filter) : 'none'],
      ['Coalescing window', hk.coalesce.windowSeconds > 0 ? `${hk.coalesce.windowSeconds} s: activities within it go as one message` : 'off'],
      ['Updated', time(hk.updatedAt)],
    ]),
  ]);
  const buttons = h('div', { class: 'actions' });
  const drawButtons = live(
    buttons,
    (hk: WebhookView) => [
      action('Send test', 'test', async () => {
        const result = await api.test(projectId, webhookId);
        return result.delivered
          ? `Test delivered: HTTP ${result.statusCode} in ${result.durationMs} ms.`
          : `Test not delivered${result.statusCode ? ` (HTTP ${result.statusCode})` : ''}: ${result.error ?? 'no reason given'}.`;
      }),
      needsReEnable(hk)
        ? action('Re-enable', 'reenable', async () => {
            await api.updateWebhook(projectId, webhookId, { active: true });
            return 'Re-enabled: new deliveries go out again.';
          })
        : null,
      h('a', { href: href.edit(projectId, webhookId), class: 'button secondary' }, 'Edit'),
    ],
    needsReEnable,
  );
  drawInfo(hook);
  if (manage) drawButtons(hook);

  const chart = h('div');
  const drawChart = live(chart, (s: HourlyDeliveries) => hourlyChart(s, 'hourly'), (s) => s.hours);
  drawChart(stats);

  // deliveries: a status filter, newest first, one page at a time (a stack of cursors for "newer")
  let status = initialStatus;
  const cursors: (string | undefined)[] = [undefined];
  let page: Page<DeliveryView> = { items: [], nextCursor: null };
  const table = h('div', { class: 'table-box' });
  const pager = h('div', { class: 'pager' });
  const drawTable = live(table, (p: Page<DeliveryView>) => deliveriesTable(projectId, webhookId, p.items, manage), (p) => p.items);
  const drawPager = live(pager, () => [
    h('button', { type: 'button', class: 'secondary', 'data-key': 'newer', disabled: cursors.length === 1, onclick: () => move(-1) }, '← Newer'),
    h('span', { class: 'muted' }, `Page ${cursors.length}`),
    h('button', { type: 'button', class: 'secondary', 'data-key': 'older', disabled: page.nextCursor === null, onclick: () => move(1) }, 'Older →'),
  ], () => [cursors.length, page.nextCursor !== null]);
  const loadDeliveries = async () => {
    page = await api.deliveries(projectId, webhookId, status, cursors[cursors.length - 1], PAGE_SIZE);
    drawTable(page);
    drawPager(null);
  };
  const move = (step: 1 | -1) => {
    if (step === 1 && page.nextCursor) cursors.push(page.nextCursor);
    if (step === -1 && cursors.length > 1) cursors.pop();
    loadDeliveries().catch(fail);
  };
  const filter = h('select', { id: 'status-filter' }, h('option', { value: '' }, 'All statuses'), DELIVERY_STATUSES.map((s) => h('option', { value: s, selected: s === status }, s.toLowerCase())));
  filter.addEventListener('change', () => {
    status = isStatus(filter.value) ? filter.value : '';
    cursors.length = 1;
    history.replaceState(null, '', href.webhook(projectId, webhookId, status));
    loadDeliveries().catch(fail);
  });
  await loadDeliveries();

  return {
    title: hook.name,
    crumbs: [{ label: 'Projects', href: href.projects() }, { label: project.name, href: href.project(projectId) }, { label: hook.name }],
    content: [
      info,
      manage
        ? h('section', { class: 'card', 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, 'Actions'), buttons, recoverForm(projectId, webhookId), replayForm(projectId, webhookId))
        : h('p', { class: 'muted' }, `Your role: ${ACCESS_LABEL[access]}.`),
      h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Last 24 hours'), chart),
      h(
        'section',
        { 'aria-labelledby': 'deliveries-title' },
        h('h2', { id: 'deliveries-title' }, 'Deliveries'),
        h('div', { class: 'field inline' }, h('label', { for: 'status-filter' }, 'Status'), filter),
        table,
        pager,
      ),
    ],
    refresh: async () => {
      const [hk, s] = await Promise.all([api.webhook(projectId, webhookId), api.hourly(projectId, webhookId), loadDeliveries()]);
      drawInfo(hk);
      if (manage) drawButtons(hk);
      drawChart(s);
    },
  };
}
