import type { EventStore } from '../../event-store/event-store.js';
import { notFound } from '../../shared/errors.js';
import type { SqlWrite } from '../../event-store/event.js';
import type { WebhookConfig, Webhooks } from './webhook.decider.js';

/** rm_webhooks mirrors each project's webhooks (settings and health), replaced with the project's state. */
export function webhookRows(projectId: number, webhooks: Webhooks): SqlWrite[] {
  return [
    { sql: `DELETE FROM rm_webhooks WHERE project_id = ?`, params: [projectId] },
    ...Object.values(webhooks).map((h) => ({
      sql: `INSERT INTO rm_webhooks (id, project_id, config) VALUES (?, ?, ?)`,
      params: [h.id, projectId, JSON.stringify(h)],
    })),
  ];
}

export interface WebhookRow {
  id: number;
  project_id: number;
  config: string;
}

export const configOf = (row: WebhookRow): WebhookConfig => JSON.parse(row.config) as WebhookConfig;

/** A webhook of the project, from the read model (404 when the project has none of this id). */
export async function loadHook(store: EventStore, projectId: number, webhookId: number): Promise<WebhookConfig> {
  const row = await store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ? AND project_id = ?`, [webhookId, projectId]);
  if (!row) throw notFound('webhook', webhookId);
  return configOf(row);
}

export async function projectMustExist(store: EventStore, projectId: number): Promise<void> {
  if (!(await store.queryOne(`SELECT 1 FROM rm_projects WHERE id = ?`, [projectId]))) throw notFound('project', projectId);
}
