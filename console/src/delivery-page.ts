import { api, type AttemptView, type DeliveryDetailView } from './api.js';
import { statusBadge } from './badges.js';
import { details, h, headerList, pretty, time, withTimes } from './dom.js';
import type { Screen } from './frame.js';
import { messagePreview } from './preview.js';
import { href } from './routes.js';
import { accessIn, action, live } from './widgets.js';

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

/** One delivery (owners only): what it is about, its attempts with what was sent and answered, redelivery; kept up to date. */
export async function deliveryPage(projectId: number, webhookId: number, deliveryId: string): Promise<Screen> {
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
      ['Direct message to', d.recipientId === null ? undefined : `user ${d.recipientId} (through the project’s IM app; a fall-back to the channel is said under Last error)`],
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
