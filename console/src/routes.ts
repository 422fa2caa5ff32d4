import { DELIVERY_STATUSES, type DeliveryStatus } from './api.js';

/** The console's places, in the URL's hash (the server serves one page): what each is, how to read one, how to link one. */
export type Route =
  | { name: 'projects' }
  | { name: 'webhooks'; projectId: number }
  | { name: 'create'; projectId: number }
  | { name: 'webhook'; projectId: number; webhookId: number; status: DeliveryStatus | '' }
  | { name: 'edit'; projectId: number; webhookId: number }
  | { name: 'delivery'; projectId: number; webhookId: number; deliveryId: string }
  | { name: 'decisions'; issueId: number }
  | { name: 'missing' };

export const isStatus = (value: string): value is DeliveryStatus => (DELIVERY_STATUSES as readonly string[]).includes(value);

export function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const id = (part: string | undefined) => (part !== undefined && /^\d{1,15}$/.test(part) ? Number(part) : NaN);
  if (parts.length === 0) return { name: 'projects' };
  if (parts.length === 2 && parts[0] === 'issues' && !Number.isNaN(id(parts[1]))) return { name: 'decisions', issueId: id(parts[1]) };
  const projectId = id(parts[1]);
  if (parts[0] !== 'projects' || Number.isNaN(projectId)) return { name: 'missing' };
  if (parts.length === 2) return { name: 'webhooks', projectId };
  if (parts[2] !== 'webhooks') return { name: 'missing' };
  if (parts.length === 4 && parts[3] === 'new') return { name: 'create', projectId };
  const webhookId = id(parts[3]);
  if (Number.isNaN(webhookId)) return { name: 'missing' };
  if (parts.length === 4) {
    const status = new URLSearchParams(query).get('status') ?? '';
    return { name: 'webhook', projectId, webhookId, status: isStatus(status) ? status : '' };
  }
  if (parts.length === 5 && parts[4] === 'edit') return { name: 'edit', projectId, webhookId };
  if (parts.length === 6 && parts[4] === 'deliveries') return { name: 'delivery', projectId, webhookId, deliveryId: decodeURIComponent(parts[5]) };
  return { name: 'missing' };
}

export const href = {
  projects: () => '#/',
  project: (p: number) => `#/projects/${p}`,
  create: (p: number) => `#/projects/${p}/webhooks/new`,
  webhook: (p: number, w: number, status: DeliveryStatus | '' = '') => `#/projects/${p}/webhooks/${w}${status ? `?status=${status}` : ''}`,
  edit: (p: number, w: number) => `#/projects/${p}/webhooks/${w}/edit`,
  delivery: (p: number, w: number, d: string) => `#/projects/${p}/webhooks/${w}/deliveries/${encodeURIComponent(d)}`,
  decisions: (issueId: number) => `#/issues/${issueId}`,
};
