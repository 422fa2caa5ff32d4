import { api, type ProjectRole, type UserRole, type WebhookView } from './api.js';
import { announce, h, replace, withTimes, type Child } from './dom.js';
import { app, fail } from './frame.js';

/*
 * What several pages build from: the reader's access to a project, containers that redraw
 * only when their data changed, action buttons, a webhook's first facts.
 */

export type Access = Extract<UserRole, 'ADMIN'> | ProjectRole;
export const ACCESS_LABEL: Record<Access, string> = {
  ADMIN: 'workspace admin',
  OWNER: 'owner',
  DEVELOPER: 'developer: you can read webhooks and their delivery log; requests, responses and actions are for owners',
};

export async function accessIn(projectId: number): Promise<Access> {
  if (app.user?.role === 'ADMIN') return 'ADMIN';
  const members = await api.members(projectId);
  return members.find((m) => m.userId === app.user?.id)?.role ?? 'DEVELOPER';
}

/** Re-renders a container only when its data changed (live updates leave focus and scroll alone otherwise). */
export function live<T>(container: HTMLElement, render: (data: T) => Child, key: (data: T) => unknown = (data) => data): (data: T) => void {
  let last: string | undefined;
  return (data) => {
    const json = JSON.stringify(key(data));
    if (json === last) return;
    last = json;
    replace(container, render(data));
  };
}

/** An action's button: disabled while it runs, its outcome announced, the page refreshed after. */
export function action(label: string, key: string, run: () => Promise<string>): HTMLButtonElement {
  const button = h('button', { type: 'button', 'data-key': key }, label);
  button.addEventListener('click', () => {
    button.disabled = true;
    announce(`${label}…`);
    run()
      .then((message) => {
        announce(message);
        return app.current?.refresh?.();
      })
      .catch(fail)
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

/** Where a webhook posts, what, and how it fares: the first lines of its card and of its page. */
export function webhookFacts(hook: WebhookView): [string, Child][] {
  return [
    ['URL', h('code', { class: 'url' }, hook.url)],
    // a URL of a kind its service retired still works for some tenants: say so, and what to use instead
    ...(hook.retiredUrl ? [['URL kind', h('span', { class: 'error-text', 'data-retired': hook.retiredUrl.kind }, `Retired. ${hook.retiredUrl.message} Use instead: ${hook.retiredUrl.useInstead}`)] as [string, Child]] : []),
    ['Activities', hook.activityTypes.join(', ')],
    ['Failures in a row', String(hook.consecutiveFailures)],
    ['Last error', hook.lastError ? h('span', { class: 'error-text' }, withTimes(hook.lastError)) : '—'],
  ];
}
