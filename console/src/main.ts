import { api, ApiError, DELIVERY_STATUSES, session, type AttemptView, type CreateWebhookInput, type DeliveryDetailView, type DeliveryStatus, type DeliveryView, type HourlyDeliveries, type Page, type ProjectRole, type ProjectView, type UserRole, type UserView, type WebhookView } from './api.js';
import { needsReEnable, stateBadge, statusBadge } from './badges.js';
import { hourlyChart } from './chart.js';
import { announce, clearStaleAnnouncement, details, h, headerList, pretty, replace, time, withTimes, type Child } from './dom.js';
import { webhookForm } from './form.js';
import { decisionsContent, replayForm } from './history.js';
import { messagePreview } from './preview.js';

/** Live updates: the open page asks again this often (only while the tab is visible). */
const POLL_MS = 2000;
const PAGE_SIZE = 20;

type Access = Extract<UserRole, 'ADMIN'> | ProjectRole;
const ACCESS_LABEL: Record<Access, string> = {
  ADMIN: 'workspace admin',
  OWNER: 'owner',
  DEVELOPER: 'developer: you can read webhooks and their delivery log; requests, responses and actions are for owners',
};

interface Crumb {
  label: string;
  href?: string;
}

/** What a page shows, and how it brings itself up to date. */
interface Screen {
  title: string;
  crumbs: Crumb[];
  content: Child[];
  refresh?: () => Promise<void>;
}

// ---------------------------------------------------------------- routes (in the URL's hash: the server serves one page)

type Route =
  | { name: 'projects' }
  | { name: 'webhooks'; projectId: number }
  | { name: 'create'; projectId: number }
  | { name: 'webhook'; projectId: number; webhookId: number; status: DeliveryStatus | '' }
  | { name: 'edit'; projectId: number; webhookId: number }
  | { name: 'delivery'; projectId: number; webhookId: number; deliveryId: string }
  | { name: 'decisions'; issueId: number }
  | { name: 'missing' };

const isStatus = (value: string): value is DeliveryStatus => (DELIVERY_STATUSES as readonly string[]).includes(value);

function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const id = (part: string | undefined) => (part !== undefined && /^\d{1,15}$/.test(part) ? Number(part) : NaN);
  if (parts.length === 0) return { name: 'projects' };
  if (parts.length === 2 && parts[0] === 'issues' && !Number.isNaN(id(parts[1]))) return { name: 'decisions', issueId: id(parts[1]) };
  const projectId = id(parts[1]);
  if (parts[0] !== 'projects' || Number.isNaN(projectId)) return { name: 'missing' };
  if (parts.length === 2) return { name: 'webhooks', projectId };
  if (parts[2] !== 'webhooks') return { name: 'missing' };
  if (parts.length === 4 && parts[3] === 'new') return { name: 'create', projectId };
  const webhookId = id(parts[3]);
  if (Number.isNaN(webhookId)) return { name: 'missing' };
  if (parts.length === 4) {
    const status = new URLSearchParams(query).get('status') ?? '';
    return { name: 'webhook', projectId, webhookId, status: isStatus(status) ? status : '' };
  }
  if (parts.length === 5 && parts[4] === 'edit') return { name: 'edit', projectId, webhookId };
  if (parts.length === 6 && parts[4] === 'deliveries') return { name: 'delivery', projectId, webhookId, deliveryId: decodeURIComponent(parts[5]) };
  return { name: 'missing' };
}

const href = {
  projects: () => '#/',
  project: (p: number) => `#/projects/${p}`,
  create: (p: number) => `#/projects/${p}/webhooks/new`,
  webhook: (p: number, w: number, status: DeliveryStatus | '' = '') => `#/projects/${p}/webhooks/${w}${status ? `?status=${status}` : ''}`,
  edit: (p: number, w: number) => `#/projects/${p}/webhooks/${w}/edit`,
  delivery: (p: number, w: number, d: string) => `#/projects/${p}/webhooks/${w}/deliveries/${encodeURIComponent(d)}`,
  decisions: (issueId: number) => `#/issues/${issueId}`,
};

// ---------------------------------------------------------------- state

let user: UserView | null = null;
let current: Screen | null = null;
/** Bumped on every navigation: an answer for an older page is dropped. */
let generation = 0;

const mainEl = () => document.getElementById('main')!;

async function accessIn(projectId: number): Promise<Access> {
  if (user?.role === 'ADMIN') return 'ADMIN';
  const members = await api.members(projectId);
  return members.find((m) => m.userId === user?.id)?.role ?? 'DEVELOPER';
}

/** Re-renders a container only when its data changed (live updates leave focus and scroll alone otherwise). */
function live<T>(container: HTMLElement, render: (data: T) => Child, key: (data: T) => unknown = (data) => data): (data: T) => void {
  let last: string | undefined;
  return (data) => {
    const json = JSON.stringify(key(data));
    if (json === last) return;
    last = json;
    replace(container, render(data));
  };
}

/** An action's button: disabled while it runs, its outcome announced, the page refreshed after. */
function action(label: string, key: string, run: () => Promise<string>): HTMLButtonElement {
  const button = h('button', { type: 'button', 'data-key': key }, label);
  button.addEventListener('click', () => {
    button.disabled = true;
    announce(`${label}…`);
    run()
      .then((message) => {
        announce(message);
        return current?.refresh?.();
      })
      .catch(fail)
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

// ---------------------------------------------------------------- pages

function signIn(message?: string): void {
  generation++;
  current = null;
  user = null;
  renderWho();
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-hint token-error' });
  const error = h('p', { id: 'token-error', class: 'field-error' }, message && message !== 'Signed out.' ? message : '');
  const form = h(
    'form',
    { class: 'card signin', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), h('p', { id: 'token-hint', class: 'hint' }, 'Kept in this browser tab only (session storage), sent only to this Herald. On a new installation, use the admin token printed at start.'), input, error),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = 'Enter a token.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    api
      .me(token)
      .then((me) => {
        session.save(token);
        user = me;
        announce(`Signed in as ${me.name}.`);
        void route();
      })
      .catch((e: unknown) => {
        error.textContent = e instanceof ApiError && e.status === 401 ? 'This token is not valid.' : `Could not sign in: ${e instanceof Error ? e.message : String(e)}`;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      });
  });
  show({ title: 'Sign in', crumbs: [], content: [h('p', null, 'Herald’s delivery console shows what your project webhooks sent, what the receivers answered, and lets owners fix it.'), form] });
  if (message === 'Signed out.') announce(message);
  input.focus();
}

async function projectsPage(): Promise<Screen> {
  const list = h('ul', { class: 'cards' });
  const more = h('div', { class: 'pager' });
  let items: ProjectView[] = [];
  const load = async (cursor?: string) => {
    const page = await api.projects(cursor);
    items = cursor ? [...items, ...page.items] : page.items;
    replace(
      list,
      items.length > 0
        ? items.map((p) => h('li', { class: 'card' }, h('h2', null, h('a', { href: href.project(p.id) }, p.name)), h('p', { class: 'muted' }, `Key ${p.key}`)))
        : h('li', { class: 'muted' }, 'You are not a member of any project yet: an owner or an admin can add you.'),
    );
    replace(more, page.nextCursor ? h('button', { type: 'button', class: 'secondary', 'data-key': 'more', onclick: () => void load(page.nextCursor!).catch(fail) }, 'More projects') : null);
  };
  await load();
  return { title: 'Projects', crumbs: [{ label: 'Projects' }], content: [list, more] };
}

function webhookCard(projectId: number, hook: WebhookView): HTMLElement {
  return h(
    'li',
    { class: 'card', 'data-webhook': hook.id },
    h('h2', null, h('a', { href: href.webhook(projectId, hook.id) }, hook.name)),
    h('p', { class: 'badges' }, h('span', { class: 'badge type' }, hook.type), ' ', stateBadge(hook)),
    details([
      ['URL', h('code', { class: 'url' }, hook.url)],
      ['Activities', hook.activityTypes.join(', ')],
      ['Failures in a row', String(hook.consecutiveFailures)],
      ['Last error', hook.lastError ? h('span', { class: 'error-text' }, withTimes(hook.lastError)) : '—'],
    ]),
  );
}

async function webhooksPage(projectId: number): Promise<Screen> {
  const [project, access, hooks] = await Promise.all([api.project(projectId), accessIn(projectId), api.webhooks(projectId)]);
  const list = h('ul', { class: 'cards' });
  const draw = live(list, (all: WebhookView[]) => (all.length > 0 ? all.map((hook) => webhookCard(projectId, hook)) : h('li', { class: 'muted' }, 'No webhooks in this project yet.')));
  draw(hooks);
  return {
    title: `${project.name}: webhooks`,
    crumbs: [{ label: 'Projects', href: href.projects() }, { label: project.name }],
    content: [
      h('p', { class: 'lead' }, `Your role: ${ACCESS_LABEL[access]}.`),
      access !== 'DEVELOPER' ? h('p', null, h('a', { href: href.create(projectId), class: 'button' }, 'New webhook')) : null,
      list,
    ],
    refresh: async () => draw(await api.webhooks(projectId)),
  };
}

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

async function webhookPage(projectId: number, webhookId: number, initialStatus: DeliveryStatus | ''): Promise<Screen> {
  const [project, access, hook, stats] = await Promise.all([api.project(projectId), accessIn(projectId), api.webhook(projectId, webhookId), api.hourly(projectId, webhookId)]);
  const manage = access !== 'DEVELOPER';

  const info = h('div');
  const drawInfo = live(info, (hk: WebhookView) => [
    h('p', { class: 'badges' }, h('span', { class: 'badge type' }, hk.type), ' ', stateBadge(hk)),
    details([
      ['URL', h('code', { class: 'url' }, hk.url)],
      ['Activities', hk.activityTypes.join(', ')],
      ['Failures in a row', String(hk.consecutiveFailures)],
      ['Last error', hk.lastError ? h('span', { class: 'error-text' }, withTimes(hk.lastError)) : '—'],
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
        return current?.refresh?.();
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 400) {
          sinceError.textContent = (e.fieldErrors().get('since') ?? [e.message]).join('; ');
          since.setAttribute('aria-invalid', 'true');
          since.focus();
        } else fail(e);
      });
  });

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
      manage ? h('section', { class: 'card', 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, 'Actions'), buttons, recover, replayForm(projectId, webhookId)) : h('p', { class: 'muted' }, `Your role: ${ACCESS_LABEL[access]}.`),
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

function bodyBlock(label: string, body: string): HTMLElement {
  return body === '' ? h('p', { class: 'muted' }, 'empty') : h('pre', { class: 'code body', tabindex: 0, 'aria-label': label }, pretty(body));
}

function attemptView(attempt: AttemptView, total: number): HTMLElement {
  const id = `attempt-${attempt.number}`;
  return h(
    'article',
    { class: 'card attempt', 'aria-labelledby': id, 'data-attempt': attempt.number },
    h('h3', { id }, `Attempt ${attempt.number} of ${total}: `, h('span', { class: `verdict ${attempt.verdict}` }, attempt.verdict)),
    details([
      ['Started', time(attempt.startedAt)],
      ['Duration', `${attempt.durationMs} ms`],
      ['Verdict', attempt.reason ? withTimes(`${attempt.verdict}: ${attempt.reason}`) : attempt.verdict],
      ['Error', attempt.error ? h('span', { class: 'error-text' }, withTimes(attempt.error)) : undefined],
    ]),
    h('h4', null, 'Request'),
    details([
      ['URL', h('code', { class: 'url' }, attempt.request.url)],
      ['Headers', headerList(attempt.request.headers)],
      ['As the room shows it', messagePreview(attempt.request.body) ?? undefined],
      ['Body', bodyBlock(`Request body of attempt ${attempt.number}`, attempt.request.body)],
    ]),
    h('h4', null, 'Response'),
    attempt.response
      ? details([
          ['Status', String(attempt.response.status)],
          ['Headers', headerList(attempt.response.headers)],
          ['Body', bodyBlock(`Response body of attempt ${attempt.number}`, attempt.response.body)],
        ])
      : h('p', { class: 'muted' }, 'No response (see the error above).'),
  );
}

async function deliveryPage(projectId: number, webhookId: number, deliveryId: string): Promise<Screen> {
  const [project, access, hook] = await Promise.all([api.project(projectId), accessIn(projectId), api.webhook(projectId, webhookId)]);
  const crumbs = [{ label: 'Projects', href: href.projects() }, { label: project.name, href: href.project(projectId) }, { label: hook.name, href: href.webhook(projectId, webhookId) }, { label: deliveryId }];
  if (access === 'DEVELOPER') {
    return { title: 'Delivery', crumbs, content: [h('p', null, 'Only the project’s owners can read what a delivery sent and what the receiver answered.')] };
  }
  const delivery = await api.delivery(projectId, webhookId, deliveryId);
  const head = h('div');
  const drawHead = live(head, (d: DeliveryDetailView) => [
    h('p', { class: 'badges' }, statusBadge(d.status)),
    details([
      ['Title', d.title ?? undefined],
      ['Activity', d.eventPosition === null ? `${d.activityType} (test message)` : d.activityType],
      ['Issue', d.issueId === null ? undefined : h('a', { href: href.decisions(d.issueId) }, `issue ${d.issueId}: why each event went or not`)],
      ['Carried by', d.carriedBy ? h('a', { href: href.delivery(projectId, webhookId, d.carriedBy) }, d.carriedBy) : undefined],
      ['Carries', d.carries.length > 0 ? h('span', null, d.carries.map((c, i) => [i > 0 ? ', ' : '', h('a', { href: href.delivery(projectId, webhookId, c.id) }, `event ${c.eventPosition}`)])) : undefined],
      ['Event position', d.eventPosition === null ? undefined : String(d.eventPosition)],
      ['Attempts', String(d.attemptCount)],
      ['Created', time(d.createdAt)],
      ['Updated', time(d.updatedAt)],
      ['Next attempt', d.nextAttemptAt ? time(d.nextAttemptAt) : undefined],
      ['Last error', d.lastError ? h('span', { class: 'error-text' }, withTimes(d.lastError)) : undefined],
    ]),
    h(
      'div',
      { class: 'actions' },
      d.eventPosition === null
        ? h('p', { class: 'muted' }, 'A test message is not redelivered: send a new test from the webhook’s page.')
        : d.status === 'DELIVERING'
          ? h('p', { class: 'muted' }, 'Being attempted right now.')
          : action('Redeliver', 'redeliver', async () => {
              await api.redeliver(projectId, webhookId, deliveryId);
              return 'Redelivery queued: it is attempted now.';
            }),
    ),
  ], (d) => ({ ...d, attempts: d.attempts.length }));
  const attempts = h('div', { class: 'attempts' });
  const drawAttempts = live(attempts, (d: DeliveryDetailView) => (d.attempts.length > 0 ? [...d.attempts].reverse().map((a) => attemptView(a, d.attempts.length)) : h('p', { class: 'muted' }, 'Not attempted yet.')), (d) => d.attempts);
  drawHead(delivery);
  drawAttempts(delivery);
  return {
    title: `Delivery ${deliveryId}`,
    crumbs,
    content: [head, h('section', { 'aria-labelledby': 'attempts-title' }, h('h2', { id: 'attempts-title' }, 'Attempts, newest first'), attempts)],
    refresh: async () => {
      const d = await api.delivery(projectId, webhookId, deliveryId);
      drawHead(d);
      drawAttempts(d);
    },
  };
}

async function formPage(projectId: number, webhookId?: number): Promise<Screen> {
  const [project, access, hook, types] = await Promise.all([
    api.project(projectId),
    accessIn(projectId),
    webhookId === undefined ? Promise.resolve(undefined) : api.webhook(projectId, webhookId),
    api.webhookTypes(),
  ]);
  const crumbs: Crumb[] = [{ label: 'Projects', href: href.projects() }, { label: project.name, href: href.project(projectId) }];
  if (hook) crumbs.push({ label: hook.name, href: href.webhook(projectId, hook.id) });
  const title = hook ? `Edit ${hook.name}` : 'New webhook';
  crumbs.push({ label: hook ? 'Edit' : 'New webhook' });
  if (access === 'DEVELOPER') return { title, crumbs, content: [h('p', null, 'Only the project’s owners can create or change its webhooks.')] };
  const form = webhookForm(
    hook,
    types,
    async (input) => {
      const saved = hook ? await api.updateWebhook(projectId, hook.id, input) : await api.createWebhook(projectId, input as CreateWebhookInput);
      announce(hook ? 'Changes saved.' : `WebhookView ${saved.name} created.`);
      location.hash = href.webhook(projectId, saved.id);
    },
    hook ? href.webhook(projectId, hook.id) : href.project(projectId),
    fail,
  );
  return { title, crumbs, content: [form.element] };
}

// ---------------------------------------------------------------- frame

function show(screen: Screen): void {
  document.title = `${screen.title} · Herald delivery console`;
  const crumbs = document.getElementById('crumbs')!;
  replace(
    crumbs,
    screen.crumbs.map((c, i) => h('li', null, c.href && i < screen.crumbs.length - 1 ? h('a', { href: c.href }, c.label) : h('span', { 'aria-current': 'page' }, c.label))),
  );
  const heading = h('h1', { tabindex: -1 }, screen.title);
  const main = mainEl();
  main.removeAttribute('aria-busy');
  replace(main, heading, screen.content);
  heading.focus();
}

function renderWho(): void {
  const who = document.getElementById('who')!;
  if (!user) return replace(who);
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOut.addEventListener('click', () => {
    session.clear();
    history.replaceState(null, '', '#/');
    signIn('Signed out.');
  });
  replace(who, h('span', { class: 'muted' }, `Signed in as ${user.name}${user.role === 'ADMIN' ? ' (admin)' : ''}`), ' ', signOut);
}

function fail(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    session.clear();
    return signIn('Your token is no longer valid: sign in again.');
  }
  const message = error instanceof Error ? error.message : String(error);
  announce(message, 'error');
}

function failPage(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return fail(error);
  current = null;
  const notFound = error instanceof ApiError && error.status === 404;
  show({
    title: notFound ? 'Not found' : 'Something went wrong',
    crumbs: [{ label: 'Projects', href: href.projects() }, { label: notFound ? 'Not found' : 'Error' }],
    content: [h('p', null, notFound ? 'It does not exist, or you are not a member of its project.' : error instanceof Error ? error.message : String(error)), h('p', null, h('a', { href: href.projects() }, 'Back to your projects'))],
  });
}

/** Why an issue's events went, or did not go, to each webhook (see history.ts). */
async function decisionsPage(issueId: number): Promise<Screen> {
  const { projectId, content } = await decisionsContent(issueId, href.delivery);
  const project = await api.project(projectId);
  const title = `Issue ${issueId}: webhook decisions`;
  return { title, crumbs: [{ label: 'Projects', href: href.projects() }, { label: project.name, href: href.project(projectId) }, { label: title }], content };
}

async function route(): Promise<void> {
  const mine = ++generation;
  current = null;
  clearStaleAnnouncement();
  if (!session.token()) return signIn();
  mainEl().setAttribute('aria-busy', 'true');
  try {
    if (!user) user = await api.me();
    renderWho();
    const r = parseRoute(location.hash);
    let screen: Screen;
    switch (r.name) {
      case 'projects':
        screen = await projectsPage();
        break;
      case 'webhooks':
        screen = await webhooksPage(r.projectId);
        break;
      case 'create':
        screen = await formPage(r.projectId);
        break;
      case 'webhook':
        screen = await webhookPage(r.projectId, r.webhookId, r.status);
        break;
      case 'edit':
        screen = await formPage(r.projectId, r.webhookId);
        break;
      case 'delivery':
        screen = await deliveryPage(r.projectId, r.webhookId, r.deliveryId);
        break;
      case 'decisions':
        screen = await decisionsPage(r.issueId);
        break;
      case 'missing':
        throw new ApiError(404, undefined);
    }
    if (mine !== generation) return;
    current = screen;
    show(screen);
  } catch (error) {
    if (mine === generation) failPage(error);
  }
}

/** Live updates: the open page refreshes itself every few seconds while the tab is visible. */
function poll(): void {
  let busy = false;
  setInterval(() => {
    const screen = current;
    if (busy || !screen?.refresh || document.visibilityState !== 'visible') return;
    busy = true;
    const mine = generation;
    screen
      .refresh()
      .catch((error: unknown) => {
        if (mine !== generation) return;
        if (error instanceof ApiError && error.status === 401) fail(error);
        else announce(`Live update failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
      })
      .finally(() => {
        busy = false;
      });
  }, POLL_MS);
}

document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  mainEl().focus();
});
window.addEventListener('hashchange', () => void route());
poll();
void route();
