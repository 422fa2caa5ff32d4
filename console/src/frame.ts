import { api, ApiError, session, type UserView } from './api.js';
import { announce, h, replace, type Child } from './dom.js';
import { href } from './routes.js';

/*
 * The page's frame: who is signed in (and signing in and out), the breadcrumbs, the main
 * area a page fills, and what a failure shows. The pages sit above it, the router above them.
 */

export interface Crumb {
  label: string;
  href?: string;
}

/** What a page shows, and how it brings itself up to date. */
export interface Screen {
  title: string;
  crumbs: Crumb[];
  content: Child[];
  refresh?: () => Promise<void>;
}

export const app = {
  user: null as UserView | null,
  current: null as Screen | null,
  /** Bumped on every navigation: an answer for an older page is dropped. */
  generation: 0,
};

export const mainEl = () => document.getElementById('main')!;

/** The router shows the page the URL names; main.ts sets it (the frame does not import the pages). */
let router: () => Promise<void> = () => Promise.resolve();
export function setRouter(route: () => Promise<void>): void {
  router = route;
}

export function signIn(message?: string): void {
  app.generation++;
  app.current = null;
  app.user = null;
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
        app.user = me;
        announce(`Signed in as ${me.name}.`);
        void router();
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

export function show(screen: Screen): void {
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

export function renderWho(): void {
  const who = document.getElementById('who')!;
  if (!app.user) return replace(who);
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOut.addEventListener('click', () => {
    session.clear();
    history.replaceState(null, '', '#/');
    signIn('Signed out.');
  });
  replace(who, h('span', { class: 'muted' }, `Signed in as ${app.user.name}${app.user.role === 'ADMIN' ? ' (admin)' : ''}`), ' ', signOut);
}

export function fail(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    session.clear();
    return signIn('Your token is no longer valid: sign in again.');
  }
  const message = error instanceof Error ? error.message : String(error);
  announce(message, 'error');
}

export function failPage(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return fail(error);
  app.current = null;
  const notFound = error instanceof ApiError && error.status === 404;
  show({
    title: notFound ? 'Not found' : 'Something went wrong',
    crumbs: [{ label: 'Projects', href: href.projects() }, { label: notFound ? 'Not found' : 'Error' }],
    content: [h('p', null, notFound ? 'It does not exist, or you are not a member of its project.' : error instanceof Error ? error.message : String(error)), h('p', null, h('a', { href: href.projects() }, 'Back to your projects'))],
  });
}
