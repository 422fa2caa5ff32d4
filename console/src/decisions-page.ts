import { api } from './api.js';
import type { Screen } from './frame.js';
import { decisionsContent } from './history.js';
import { href } from './routes.js';

/** Why an issue's events went, or did not go, to each webhook (see history.ts). */
export async function decisionsPage(issueId: number): Promise<Screen> {
  const { projectId, content } = await decisionsContent(issueId, href.delivery);
  const project = await api.project(projectId);
  const title = `Issue ${issueId}: webhook decisions`;
  return { title, crumbs: [{ label: 'Projects', href: href.projects() }, { label: project.name, href: href.project(projectId) }, { label: title }], content };
}
