import { ApiError, api, session } from './api.js';
import { announce, clearStaleAnnouncement } from './dom.js';
import { decisionsPage } from './decisions-page.js';
import { deliveryPage } from './delivery-page.js';
import { app, fail, failPage, mainEl, renderWho, setRouter, show, signIn, type Screen } from './frame.js';
import { projectsPage } from './projects-page.js';
import { parseRoute } from './routes.js';
import { webhookFormPage } from './webhook-form-page.js';
import { webhookPage } from './webhook-page.js';
import { webhooksPage } from './webhooks-page.js';

/** Live updates: the open page asks again this often (only while the tab is visible). */
const POLL_MS = 2000;

/** The router: the page the URL's hash names, once the reader is signed in. */
async function route(): Promise<void> {
  const mine = ++app.generation;
  app.current = null;
  clearStaleAnnouncement();
  if (!session.token()) return signIn();
  mainEl().setAttribute('aria-busy', 'true');
  try {
    if (!app.user) app.user = await api.me();
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
        screen = await webhookFormPage(r.projectId);
        break;
      case 'webhook':
        screen = await webhookPage(r.projectId, r.webhookId, r.status);
        break;
      case 'edit':
        screen = await webhookFormPage(r.projectId, r.webhookId);
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
    if (mine !== app.generation) return;
    app.current = screen;
    show(screen);
  } catch (error) {
    if (mine === app.generation) failPage(error);
  }
}

/** Live updates: the open page refreshes itself every few seconds while the tab is visible. */
function poll(): void {
  let busy = false;
  setInterval(() => {
    const screen = app.current;
    if (busy || !screen?.refresh || document.visibilityState !== 'visible') return;
    busy = true;
    const mine = app.generation;
    screen
      .refresh()
      .catch((error: unknown) => {
        if (mine !== app.generation) return;
        if (error instanceof ApiError && error.status === 401) fail(error);
        else announce(`Live update failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
      })
      .finally(() => {
        busy = false;
      });
  }, POLL_MS);
}

setRouter(route);
document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  mainEl().focus();
});
window.addEventListener('hashchange', () => void route());
poll();
void route();
