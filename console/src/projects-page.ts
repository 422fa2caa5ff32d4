import { api, type ProjectView } from './api.js';
import { h, replace } from './dom.js';
import { fail, type Screen } from './frame.js';
import { href } from './routes.js';

/** The projects the reader belongs to (all of them for an admin), a hundred at a time. */
export async function projectsPage(): Promise<Screen> {
  const list = h('ul', { class: 'cards' });
  const more = h('div', { class: 'pager' });
  let items: ProjectView[] = [];
  const load = async (cursor?: string) => {
    const page = await api.projects(cursor);
    items = cursor ? [...items, ...page.items] : page.items;
    replace(
      list,
      items.length > 0
        ? items.map((p) => h('li', { class: 'card' }, h('h2', null, h('a', { href: href.project(p.id) }, p.name)), h('p', { class: 'muted' }, `Key ${p.key}`)))
        : h('li', { class: 'muted' }, 'You are not a member of any project yet: an owner or an admin can add you.'),
    );
    replace(more, page.nextCursor ? h('button', { type: 'button', class: 'secondary', 'data-key': 'more', onclick: () => void load(page.nextCursor!).catch(fail) }, 'More projects') : null);
  };
  await load();
  return { title: 'Projects', crumbs: [{ label: 'Projects' }], content: [list, more] };
}
