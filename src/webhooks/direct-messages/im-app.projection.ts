import type { EventStore } from '../../event-store/event-store.js';
import type { SqlWrite } from '../../event-store/event.js';
import type { ImAppType } from './im-app-types.js';
import type { ImAppConfig, ImApps } from './im-app.decider.js';

/** rm_im_apps mirrors each project's IM apps (credentials sealed), replaced with the project's state. */
export function imAppRows(projectId: number, apps: ImApps): SqlWrite[] {
  return [
    { sql: `DELETE FROM rm_im_apps WHERE project_id = ?`, params: [projectId] },
    ...Object.values(apps).map((app) => ({ sql: `INSERT INTO rm_im_apps (project_id, type, config) VALUES (?, ?, ?)`, params: [projectId, app.type, JSON.stringify(app)] })),
  ];
}

/** A project's IM app of a type, from the read model; undefined when it has none. */
export async function loadImApp(store: Pick<EventStore, 'queryOne'>, projectId: number, type: ImAppType): Promise<ImAppConfig | undefined> {
  const row = await store.queryOne<{ config: string }>(`SELECT config FROM rm_im_apps WHERE project_id = ? AND type = ?`, [projectId, type]);
  return row ? (JSON.parse(row.config) as ImAppConfig) : undefined;
}

export async function listImApps(store: Pick<EventStore, 'query'>, projectId: number): Promise<ImAppConfig[]> {
  const rows = await store.query<{ config: string }>(`SELECT config FROM rm_im_apps WHERE project_id = ? ORDER BY type`, [projectId]);
  return rows.map((row) => JSON.parse(row.config) as ImAppConfig);
}
