import { api, type CreateWebhookInput } from './api.js';
import { announce, h } from './dom.js';
import { webhookForm } from './form.js';
import { fail, type Crumb, type Screen } from './frame.js';
import { href } from './routes.js';
import { accessIn } from './widgets.js';

/** A new webhook (no webhookId) or an edit of one (owners only). */
export async function webhookFormPage(projectId: number, webhookId?: number): Promise<Screen> {
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
      // a new webhook's form sends every field
      const saved = hook ? await api.updateWebhook(projectId, hook.id, input) : await api.createWebhook(projectId, input as CreateWebhookInput);
      announce(hook ? 'Changes saved.' : `Webhook ${saved.name} created.`);
      location.hash = href.webhook(projectId, saved.id);
    },
    hook ? href.webhook(projectId, hook.id) : href.project(projectId),
    fail,
    (filter) => api.tryFilter(projectId, filter),
  );
  return { title, crumbs, content: [form.element] };
}
