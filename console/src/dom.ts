/** Elements built from data with textContent and attributes only: nothing the API returns is ever parsed as HTML. */

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

function apply(element: Element, attrs: Attrs | null | undefined, children: Child[]): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attrs, children);
  return element;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  apply(element, attrs, children);
  return element;
}

/** Replaces a container's content, keeping focus on the element with the same data-key when there is one. */
export function replace(container: Element, ...children: Child[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset.key : undefined;
  container.replaceChildren();
  append(container, children);
  if (key) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** A time for people (the browser's locale and zone), with the exact instant in datetime. */
export function time(iso: string | null | undefined): HTMLElement | string {
  if (!iso) return '—';
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** A text (an error, a reason) with the ISO times it carries shown in the console's one style. */
export function withTimes(text: string): Child[] {
  const out: Child[] = [];
  let last = 0;
  for (const m of text.matchAll(ISO_TIME)) {
    out.push(text.slice(last, m.index), time(m[0]));
    last = m.index! + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

/** A body as it was sent: indented when it is JSON, as is otherwise. */
export function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A name/value list (<dl>), skipping absent values. */
export function details(entries: [string, Child][], attrs: Attrs = {}): HTMLDListElement {
  return h('dl', { class: 'details', ...attrs }, ...entries.filter(([, value]) => value !== undefined).map(([name, value]) => h('div', null, h('dt', null, name), h('dd', null, value))));
}

export function headerList(headers: Record<string, string>): HTMLElement {
  const names = Object.keys(headers);
  if (names.length === 0) return h('p', { class: 'muted' }, 'none');
  return h('pre', { class: 'code', tabindex: 0 }, names.map((name) => `${name}: ${headers[name]}`).join('\n'));
}

/** One announcement for screen readers and eyes alike (the status line under the header). */
export function announce(message: string, kind: 'info' | 'error' = 'info'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.className = `status ${kind}`;
  status.textContent = message;
  announcedAt = Date.now();
}

let announcedAt = 0;

/** On navigation: an announcement older than a few seconds belongs to the page left behind. */
export function clearStaleAnnouncement(): void {
  const status = document.getElementById('status');
  if (status && Date.now() - announcedAt > 3000) status.textContent = '';
}
