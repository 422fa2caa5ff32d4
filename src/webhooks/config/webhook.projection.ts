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
