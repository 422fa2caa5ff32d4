import { ApiError, type FilterTrialItem, type FilterTrialView } from './api.js';
import { h } from './dom.js';

/**
 * The webhook form's filter: a CEL expression, a "try it" on the project's last activities
 * before saving, and the API's complaint shown where it points (`at position N: …` marks
 * the character at N, and focusing the field from the error summary selects it).
 */
export interface FilterField {
  element: HTMLElement;
  control: HTMLTextAreaElement;
  /** Shows a 400's message for `filter` in place. */
  showError(message: string): void;
  clearError(): void;
  /** Puts the cursor where the last error points. */
  focusError(): void;
}

const HINT =
  'Optional. A CEL expression an activity must pass to be sent, over level, activity_type, title, description, creator_id, creator_name, ' +
  'issue.id|name|status|type, project.id|name, stage.id|name|status and task.id|name|status, e.g. level == "ERROR" && stage.name == "prod". ' +
  'matches() takes an RE2 pattern. An expression that could cost more than its budget on the largest activity is refused.';

const POSITION = /^at position (\d+): /;

export function filterField(existing: string | null, tryFilter: (filter: string) => Promise<FilterTrialView>, onOtherError: (error: unknown) => void): FilterField {
  const control = h('textarea', { id: 'filter', name: 'filter', rows: 2, maxlength: 1000, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'filter-hint filter-error filter-where' });
  control.value = existing ?? '';
  const error = h('p', { id: 'filter-error', class: 'field-error' });
  const where = h('pre', { id: 'filter-where', class: 'filter-where', hidden: true });
  const results = h('div', { class: 'filter-trial', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary' }, 'Try it on recent activities');
  let errorAt: number | undefined;

  const clearError = () => {
    error.textContent = '';
    where.hidden = true;
    where.replaceChildren();
    control.removeAttribute('aria-invalid');
    errorAt = undefined;
  };

  const showError = (message: string) => {
    error.textContent = message;
    control.setAttribute('aria-invalid', 'true');
    const at = POSITION.exec(message);
    if (!at) return;
    errorAt = Math.min(Number(at[1]), control.value.length);
    // the expression as sent, with the character the message points at marked (a space when it points past the end)
    const text = control.value;
    where.replaceChildren(text.slice(0, errorAt), h('mark', null, text.slice(errorAt, errorAt + 1) || ' '), text.slice(errorAt + 1));
    where.hidden = false;
  };

  const focusError = () => {
    control.focus();
    if (errorAt !== undefined) control.setSelectionRange(errorAt, Math.min(errorAt + 1, control.value.length));
  };

  button.addEventListener('click', () => {
    clearError();
    results.replaceChildren();
    if (control.value.trim() === '') return showError('Write an expression to try.');
    button.disabled = true;
    tryFilter(control.value)
      .then((trial) => results.replaceChildren(trialTable(trial)))
      .catch((e: unknown) => {
        const message = e instanceof ApiError ? e.fieldErrors().get('filter')?.join('; ') : undefined;
        if (message) showError(message);
        else onOtherError(e);
      })
      .finally(() => {
        button.disabled = false;
      });
  });

  const element = h(
    'div',
    { class: 'field', 'data-field': 'filter' },
    h('label', { for: 'filter' }, 'Filter'),
    h('p', { id: 'filter-hint', class: 'hint' }, HINT),
    control,
    error,
    where,
    h('div', { class: 'actions' }, button),
    results,
  );
  return { element, control, showError, clearError, focusError };
}

function trialTable(trial: FilterTrialView): HTMLElement {
  if (trial.items.length === 0) return h('p', { class: 'muted' }, 'The project has no activities yet to try it on.');
  const passed = trial.items.filter((i) => i.matched).length;
  const worst = `${trial.worstCaseSteps.toLocaleString('en-US')} of ${trial.budget.toLocaleString('en-US')} steps at most`;
  return h(
    'div',
    { class: 'table-box' },
    h('p', null, `Lets through ${passed} of the last ${trial.items.length} activities (${worst}).`),
    h(
      'table',
      { class: 'deliveries' },
      h('caption', { class: 'visually-hidden' }, 'The project’s last activities and whether the filter lets each through'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Sent?'), h('th', { scope: 'col' }, 'Activity'), h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Steps'))),
      h('tbody', null, trial.items.map(row)),
    ),
  );
}

function row(item: FilterTrialItem): HTMLElement {
  return h(
    'tr',
    null,
    h('td', null, item.matched ? 'Sent' : 'Filtered out'),
    h('td', null, h('div', null, item.title), h('div', { class: 'muted' }, item.activityType), item.error ? h('div', { class: 'error-text' }, item.error) : null),
    h('td', null, h('time', { datetime: item.occurredAt }, new Date(item.occurredAt).toLocaleString())),
    h('td', null, item.steps.toLocaleString('en-US')),
  );
}
