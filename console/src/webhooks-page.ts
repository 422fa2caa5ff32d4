import { api, type WebhookView } from './api.js';
import { webhookBadges } from './badges.js';
import { details, h } from './dom.js';
import type { Screen } from './frame.js';
import { href } from './routes.js';
import { accessIn, ACCESS_LABEL, live, webhookFacts } from './widgets.js';

function webhookCard(projectId: number, hook: WebhookView): HTMLElement {
  return h('li', { class: 'card', 'data-webhook': hook.id }, h('h2', null, h('a', { href: href.webhook(projectId, hook.id) }, hook.name)), webhookBadges(hook), details(webhookFacts(hook)));
}

/** A project's webhooks, each with its health, kept up to date. */
export async function webhooksPage(projectId: number): Promise<Screen> {
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
