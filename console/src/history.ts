import { api, ApiError, type DecisionKind, type IssueDecisionsView, type ReplayPreview, type ReplayProgress } from './api.js';
import { announce, h, replace, time, type Child } from './dom.js';

/*
 * The pages of what Herald's history can answer (issue 15): why an issue's events went, or did not
 * go, to each webhook; and a webhook's replay (or backfill) with its dry-run list.
 */

const DECISION_CLASS: Record<DecisionKind, string> = {
  scheduled: 'ok',
  coalesced: 'ok',
  'not-subscribed': 'off',
  filtered: 'off',
  'webhook-disabled': 'warn',
  'webhook-created-later': 'off',
  'webhook-deleted': 'off',
};

/** The decisions of one issue: a row per event, a column per webhook the project has had. */
export async function decisionsContent(issueId: number, deliveryHref: (projectId: number, webhookId: number, deliveryId: string) => string): Promise<{ projectId: number; content: Child[] }> {
  const d: IssueDecisionsView = await api.decisions(issueId);
  const cell = (label: string, ...content: Child[]) => h('td', { 'data-label': label }, ...content);
  const items = d.items.filter((i) => i.activityType !== null);
  const table = h(
    'table',
    { class: 'deliveries decisions' },
    h('caption', { class: 'visually-hidden' }, 'Each event of the issue and what each webhook did with it'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Activity'), d.webhooks.map((w) => h('th', { scope: 'col' }, w.name, w.deleted ? ' (deleted)' : '')))),
    h(
      'tbody',
      null,
      items.map((item) =>
        h(
          'tr',
          { 'data-position': item.position },
          cell('When', time(item.occurredAt)),
          cell('Activity', item.title ?? item.eventType, h('span', { class: 'muted' }, ` (${item.activityType})`)),
          d.webhooks.map((w) => {
            const decision = item.decisions.find((x) => x.webhookId === w.id);
            if (!decision) return cell(w.name, '—');
            const badge = h('span', { class: `badge ${DECISION_CLASS[decision.decision] ?? 'off'}`, title: d.reasons[decision.decision] ?? '', 'data-decision': decision.decision }, decision.decision.replace(/-/g, ' '));
            const target = decision.into ?? decision.deliveryId;
            return cell(
              w.name,
              badge,
              target && !w.deleted ? [' ', h('a', { href: deliveryHref(d.projectId, w.id, target) }, decision.into ? 'message' : (decision.status ?? 'delivery').toLowerCase())] : null,
              decision.filter ? h('div', { class: 'muted' }, h('code', null, decision.filter)) : null,
              decision.error ? h('div', { class: 'error-text' }, decision.error) : null,
              // a webhook that sends direct messages: each person's, linked to its delivery
              ...(decision.directMessages ?? []).map((dm) =>
                h(
                  'div',
                  { class: 'dm', 'data-dm': dm.decision, title: dm.reason ?? '' },
                  `user ${dm.userId}: ${dm.decision.replace(/-/g, ' ')} `,
                  w.deleted ? null : h('a', { href: deliveryHref(d.projectId, w.id, dm.deliveryId) }, dm.status.toLowerCase()),
                ),
              ),
            );
          }),
        ),
      ),
    ),
  );
  const legend = h('dl', { class: 'details' }, Object.entries(d.reasons).flatMap(([kind, text]) => [h('dt', null, kind.replace(/-/g, ' ')), h('dd', null, text)]));
  return {
    projectId: d.projectId,
    content: [h('p', { class: 'lead' }, 'For each event of the issue, what each webhook of the project did with it, and why: computed from the log with each webhook as it was then.'), items.length > 0 ? h('div', { class: 'table-box' }, table) : h('p', { class: 'muted' }, 'No activity yet.'), h('h2', null, 'What the decisions mean'), legend],
  };
}

/** How often a replay's progress is read again while it runs. */
const PROGRESS_MS = 1000;

/** A webhook's replay form: a dry run lists what would be sent; a real run starts it and follows its progress. */
export function replayForm(projectId: number, webhookId: number): HTMLElement {
  const from = h('input', { id: 'replay-from', name: 'from', type: 'datetime-local', required: true, step: 1, 'aria-describedby': 'replay-hint replay-error' });
  const again = h('input', { id: 'replay-again', name: 'includeDelivered', type: 'checkbox' });
  const error = h('p', { id: 'replay-error', class: 'field-error' });
  const result = h('div', { class: 'replay-result', 'aria-live': 'polite' });
  const showPreview = (r: ReplayPreview) => {
    announce(`${r.count} ${r.count === 1 ? 'activity' : 'activities'} would be sent.`);
    replace(
      result,
      h('p', null, `A replay would send ${r.count}`, r.count > r.items.length ? ` (the first ${r.items.length} listed)` : '', ':'),
      r.complete ? null : h('p', { class: 'muted' }, `Read up to position ${r.scannedTo} of ${r.toPosition}: a dry run reads a part of a long range at a time.`),
      h('ol', { class: 'replay-items' }, r.items.map((i) => h('li', null, time(new Date(i.createdTs * 1000).toISOString()), ' ', i.title, i.alreadyDelivered ? h('span', { class: 'muted' }, ' (delivered before)') : null))),
    );
  };
  // the replay reads the log in the background: its progress is read again until everything it queued has gone
  const follow = (p: ReplayProgress) => {
    const statuses = Object.entries(p.statuses).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ') || 'nothing yet';
    const read = p.toPosition >= p.fromPosition ? `read ${p.scannedTo - p.fromPosition + 1} of ${p.toPosition - p.fromPosition + 1} positions` : 'nothing in the range';
    replace(
      result,
      h('p', { 'data-state': p.state }, `Replay ${p.id}: ${p.state === 'scanning' ? 'reading the log' : p.state}, ${read}, ${p.count} queued.`),
      p.error ? h('p', { class: 'error-text' }, p.error) : null,
      h('p', { class: 'muted' }, statuses),
    );
    if (!p.done && p.state !== 'failed') {
      setTimeout(() => {
        if (result.isConnected) void api.replayProgress(projectId, webhookId, p.id).then(follow, () => undefined);
      }, PROGRESS_MS);
    }
  };
  const run = (dryRun: boolean) => {
    error.textContent = '';
    const when = from.value ? new Date(from.value) : null;
    if (!when || Number.isNaN(when.getTime())) {
      error.textContent = 'Enter a date and time.';
      from.focus();
      return;
    }
    const input = { from: when.toISOString(), includeDelivered: again.checked };
    const started = dryRun
      ? api.previewReplay(projectId, webhookId, input).then(showPreview)
      : api.replay(projectId, webhookId, input).then((p) => {
          announce(`Replay ${p.id} started.`);
          follow(p);
        });
    started.catch((e: unknown) => {
      error.textContent = e instanceof ApiError ? e.message : String(e);
    });
  };
  const form = h(
    'form',
    { class: 'recover replay', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'replay-from' }, 'Replay the log since'), h('p', { id: 'replay-hint', class: 'hint' }, 'Activities since then (your local time), in order, with this webhook’s current rules; already delivered ones only if you tick the box.'), from, error),
    h('div', { class: 'field' }, h('label', null, again, ' Send again what was already delivered')),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', 'data-key': 'replay-preview', onclick: () => run(true) }, 'Preview (dry run)'), h('button', { type: 'submit' }, 'Replay')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(false);
  });
  return h('div', null, form, result);
}
