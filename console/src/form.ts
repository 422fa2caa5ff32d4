import { ACTIVITY_TYPES, ApiError, IM_APP_TYPES, type FilterTrialView, type WebhookInput, type WebhookTypeInfo, type WebhookView } from './api.js';
import { h } from './dom.js';
import { filterField } from './filter-field.js';

/** The form's fields, named as the API names them (its 400 answers name the same fields: `coalesce.windowSeconds` is `coalesce`). */
const FIELDS = ['type', 'name', 'url', 'activityTypes', 'active', 'ordered', 'directMessage', 'signingSecret', 'headers', 'filter', 'coalesce'] as const;
type Field = (typeof FIELDS)[number];

export interface WebhookForm {
  element: HTMLFormElement;
  /** Shows the API's messages next to their fields, and a summary on top that takes focus. */
  showErrors(error: ApiError): void;
}

function field(name: Field, label: string, control: HTMLElement, hint?: string): HTMLElement {
  const ids = [hint ? `${name}-hint` : '', `${name}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', ids);
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: name }, label), hint ? h('p', { id: `${name}-hint`, class: 'hint' }, hint) : null, control, h('p', { id: `${name}-error`, class: 'field-error' }));
}

function check(name: string, label: string, checked: boolean, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'field check', 'data-field': name },
    h('input', { type: 'checkbox', id: name, name, checked, 'aria-describedby': `${hint ? `${name}-hint ` : ''}${name}-error` }),
    h('label', { for: name }, label),
    hint ? h('p', { id: `${name}-hint`, class: 'hint' }, hint) : null,
    h('p', { id: `${name}-error`, class: 'field-error' }),
  );
}

/** "Name: value" lines → an object; a line without a colon is the user's mistake, named like the API would. */
function parseHeaders(text: string): Record<string, string> | ApiError {
  const headers: Record<string, string> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      return new ApiError(400, { type: 'urn:herald:problem:invalid', title: 'Bad Request', status: 400, detail: 'headers', errors: [{ field: 'headers', message: `line ${i + 1} must be "Name: value"` }] });
    }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The URL field's help for a type: where its URLs may point. */
function urlHint(info: WebhookTypeInfo | undefined): string {
  const where = !info ? '' : info.hosts.length === 0 ? ' Any host.' : ` Hosts: ${info.hosts.join(', ')}.`;
  return `The provider’s incoming-webhook URL${info ? `, e.g. ${info.exampleUrl}` : ''}; it is stored sealed and shown masked.${where}${info?.answerRule ? ` ${info.answerRule}` : ''}`;
}

/** The coalescing window's help for a type, from what the server says of it. */
function coalesceHint(info: WebhookTypeInfo | undefined): string {
  const fallback = !info?.defaultCoalesceSeconds ? 'off' : `${info.defaultCoalesceSeconds} s`;
  const hint = `Activities coming due within this many seconds go to the room as one message; the first after a quiet spell goes at once. 0 turns it off. Empty: this type’s default (${fallback}).`;
  // a type that coalesces unless told otherwise sends what Bytebase never did: a digest
  return info?.defaultCoalesceSeconds
    ? `${hint} Moving from Bytebase? It sent one message per activity; this type coalesces by default (its robots take 20 messages a minute): set 0 to keep one message per activity.`
    : hint;
}

/** The signing secret's help for a type, from what the server says of it. */
function secretHint(info: WebhookTypeInfo | undefined): string {
  return info?.signingSecret ? `Optional: ${info.signingSecret}.` : 'This type is not signed.';
}

/**
 * Create (no webhook given) or edit. The types and what each takes come from the server
 * (`GET /api/webhook-types`), so a provider added there shows here unchanged. On edit, the URL, the signing secret and header
 * values are never shown (the API does not return them): left empty, they stay as they are.
 */
export function webhookForm(
  existing: WebhookView | undefined,
  types: WebhookTypeInfo[],
  submit: (input: WebhookInput) => Promise<void>,
  cancelHref: string,
  onOtherError: (error: unknown) => void,
  tryFilter: (filter: string) => Promise<FilterTrialView>,
): WebhookForm {
  const editing = existing !== undefined;
  const infoOf = (type: string) => types.find((t) => t.type === type);
  const typeControl = editing
    ? h('input', { id: 'type', name: 'type', value: existing.type, readonly: true })
    : h('select', { id: 'type', name: 'type', required: true }, types.map((t) => h('option', { value: t.type, selected: t.type === 'CUSTOM' }, t.displayName)));
  const summary = h('div', { class: 'error-summary', tabindex: -1, hidden: true, role: 'alert' });
  const headersField = field(
    'headers',
    'Custom headers',
    h('textarea', { id: 'headers', name: 'headers', rows: 3, spellcheck: 'false', autocomplete: 'off' }),
    editing && existing.headerNames.length > 0
      ? `One "Name: value" per line. Now set: ${existing.headerNames.join(', ')}. Leave empty to keep them.`
      : 'One "Name: value" per line.',
  );
  const activities = h(
    'fieldset',
    { class: 'field', 'data-field': 'activityTypes', 'aria-describedby': 'activityTypes-error' },
    h('legend', null, 'Activities'),
    ACTIVITY_TYPES.map((a) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id: `activity-${a}`, name: 'activityTypes', value: a, checked: existing ? existing.activityTypes.includes(a) : true }), h('label', { for: `activity-${a}` }, a))),
    h('p', { id: 'activityTypes-error', class: 'field-error' }),
  );
  const filter = filterField(existing?.filter ?? null, tryFilter, onOtherError);
  const dmField = check(
    'directMessage',
    'Direct messages (also tell the people asked to act, through the project’s IM app)',
    existing?.directMessage ?? false,
    'The approvers asked, and the creator of an issue approved, sent back or whose rollout failed, each get a message of their own; one the app cannot reach is mentioned here instead. Needs the project’s IM app (PUT /api/projects/{id}/im-apps/{type}).',
  );
  const coalesceField = field(
    'coalesce',
    'Coalescing window (seconds)',
    h('input', { id: 'coalesce', name: 'coalesce', type: 'number', min: 0, max: 3600, step: 1, inputmode: 'numeric', value: existing ? String(existing.coalesce.windowSeconds) : '' }),
    coalesceHint(infoOf(existing?.type ?? 'CUSTOM')),
  );
  const form = h(
    'form',
    { class: 'card webhook-form', novalidate: true },
    summary,
    field('type', 'Type', typeControl, editing ? "A webhook's type cannot change." : undefined),
    field('name', 'Name', h('input', { id: 'name', name: 'name', required: true, maxlength: 200, value: existing?.name ?? '', autocomplete: 'off' })),
    field(
      'url',
      'URL',
      h('input', { id: 'url', name: 'url', type: 'url', inputmode: 'url', required: !editing, autocomplete: 'off', spellcheck: 'false', placeholder: existing?.url ?? 'https://' }),
      editing ? `Now ${existing.url} (masked). Leave empty to keep it.${existing.retiredUrl ? ` This URL kind is retired: ${existing.retiredUrl.message} Use instead: ${existing.retiredUrl.useInstead}` : ''}` : urlHint(infoOf('CUSTOM')),
    ),
    activities,
    filter.element,
    coalesceField,
    check('active', 'Active (deliver new activities)', existing?.active ?? true),
    check('ordered', 'Ordered (one issue’s deliveries wait for each other)', existing?.ordered ?? false),
    dmField,
    field(
      'signingSecret',
      'Signing secret',
      h('input', { id: 'signingSecret', name: 'signingSecret', type: 'password', autocomplete: 'new-password', spellcheck: 'false' }),
      editing && existing.hasSigningSecret ? 'A secret is set. Leave empty to keep it.' : secretHint(infoOf(existing?.type ?? 'CUSTOM')),
    ),
    editing && existing.hasSigningSecret ? check('removeSecret', 'Remove the signing secret', false) : null,
    headersField,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, editing ? 'Save changes' : 'Create webhook'), h('a', { href: cancelHref, class: 'button secondary' }, 'Cancel')),
  );

  // what each type takes, from the server: custom headers, its URL hosts, its signing
  const showTypeHelp = () => {
    const info = infoOf((form.elements.namedItem('type') as HTMLInputElement | HTMLSelectElement).value);
    headersField.hidden = !info?.customHeaders;
    // a type that never coalesces (Custom: one activity per body) has no window to set
    coalesceField.hidden = info?.defaultCoalesceSeconds === null;
    // only the types with an IM app can send direct messages
    dmField.hidden = !(IM_APP_TYPES as readonly string[]).includes(info?.type ?? '');
    form.querySelector('#coalesce-hint')!.textContent = coalesceHint(info);
    if (!editing) form.querySelector('#url-hint')!.textContent = urlHint(info);
    if (!editing || !existing.hasSigningSecret) form.querySelector('#signingSecret-hint')!.textContent = secretHint(info);
  };
  typeControl.addEventListener('change', showTypeHelp);
  showTypeHelp();

  const clearErrors = () => {
    summary.hidden = true;
    summary.replaceChildren();
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    filter.clearError();
  };

  const showErrors = (error: ApiError) => {
    clearErrors();
    const byField = error.fieldErrors();
    const items: HTMLElement[] = [];
    for (const [name, messages] of byField) {
      const known = (FIELDS as readonly string[]).includes(name) ? name : undefined;
      if (known === 'filter') filter.showError(messages.join('; '));
      const target = known && known !== 'filter' ? form.querySelector<HTMLElement>(`#${known}-error`) : null;
      if (target) target.textContent = messages.join('; ');
      const control = known === 'activityTypes' ? form.querySelector('fieldset') : known ? form.querySelector(`#${known}`) : null;
      control?.setAttribute('aria-invalid', 'true');
      items.push(h('li', null, known && control ? h('a', { href: `#${known}`, 'data-focus': known }, `${name}: ${messages.join('; ')}`) : `${name}: ${messages.join('; ')}`));
    }
    summary.append(h('p', null, h('strong', null, byField.size > 0 ? 'Please fix:' : (error.problem?.title ?? 'Not saved'))), byField.size > 0 ? h('ul', null, items) : h('p', null, error.message));
    summary.hidden = false;
    summary.focus();
  };
  // summary links move focus to their field without touching the route
  summary.addEventListener('click', (event) => {
    const link = (event.target as Element).closest<HTMLAnchorElement>('a[data-focus]');
    if (!link) return;
    event.preventDefault();
    if (link.dataset.focus === 'filter') return filter.focusError();
    const target = link.dataset.focus === 'activityTypes' ? form.querySelector<HTMLInputElement>('fieldset input') : form.querySelector<HTMLElement>(`#${link.dataset.focus}`);
    target?.focus();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '';
    const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.checked ?? false;
    const activityTypes = [...form.querySelectorAll<HTMLInputElement>('input[name="activityTypes"]:checked')].map((c) => c.value);
    const input: WebhookInput = {};
    // an edit sends only what changed: `active: true` re-enables a disabled webhook, which saving a name must not do
    if (!editing || value('name') !== existing.name) input.name = value('name');
    if (!editing || [...activityTypes].sort().join() !== [...existing.activityTypes].sort().join()) input.activityTypes = activityTypes;
    if (!editing || checked('active') !== existing.active) input.active = checked('active');
    if (!editing || checked('ordered') !== existing.ordered) input.ordered = checked('ordered');
    if (!dmField.hidden && (!editing || checked('directMessage') !== existing.directMessage)) input.directMessage = checked('directMessage');
    if (!editing) input.type = value('type');
    if (!editing || value('url') !== '') input.url = value('url');
    const expression = filter.control.value.trim();
    if (editing ? expression !== (existing.filter ?? '') : expression !== '') input.filter = expression === '' ? null : expression;
    if (!coalesceField.hidden && value('coalesce') !== '' && (!editing || Number(value('coalesce')) !== existing.coalesce.windowSeconds)) {
      input.coalesce = { windowSeconds: Number(value('coalesce')) };
    }
    if (value('signingSecret') !== '') input.signingSecret = value('signingSecret');
    else if (checked('removeSecret')) input.signingSecret = null;
    if (!headersField.hidden && value('headers').trim() !== '') {
      const headers = parseHeaders(value('headers'));
      if (headers instanceof ApiError) return showErrors(headers);
      input.headers = headers;
    }
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    button.disabled = true;
    submit(input)
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status !== 401) showErrors(error);
        else onOtherError(error);
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return { element: form, showErrors };
}
