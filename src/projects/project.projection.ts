import type { ProjectView } from '../contract/projects.js';
import type { AggregateDefinition, Projection } from '../event-store/aggregate-store.js';
import type { ApprovalStep } from '../issues/issue.events.js';
import { evolveProject, initialProjectState, type ProjectState } from './project.decider.js';
import { PROJECT_EVENT_SCHEMAS, ProjectCreated, type ProjectEvent } from './project.events.js';

/** The API's view of a project (contract/projects.ts, shared with the console). */
export type { ProjectView };

export interface ProjectRow {
  id: number;
  name: string;
  key: string;
  approval_steps: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export const toProjectView = (row: ProjectRow): ProjectView => ({
  id: row.id,
  name: row.name,
  key: row.key,
  approvalSteps: JSON.parse(row.approval_steps) as ApprovalStep[],
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** rm_projects: one row per project, mirroring its state. */
export const projectsReadModel: Projection<ProjectState, ProjectEvent> = {
  table: 'rm_projects',
  fromState: (state, version) => [
    {
      sql: `INSERT INTO rm_projects (id, name, key, creator_id, approval_steps, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, approval_steps = excluded.approval_steps, version = excluded.version, updated_at = excluded.updated_at`,
      params: [state.id, state.name, state.key, state.creatorId, JSON.stringify(state.approvalSteps), version, state.createdAt, state.updatedAt],
    },
  ],
};

/** rm_project_members: the project's members and roles, replaced with its state. */
export const membersReadModel: Projection<ProjectState, ProjectEvent> = {
  table: 'rm_project_members',
  fromState: (state) => [
    { sql: `DELETE FROM rm_project_members WHERE project_id = ?`, params: [state.id] },
    ...Object.entries(state.members).map(([userId, role]) => ({
      sql: `INSERT INTO rm_project_members (project_id, user_id, role) VALUES (?, ?, ?)`,
      params: [state.id, Number(userId), role],
    })),
  ],
};

/** The AggregateStore of project streams (provided by EventStoreModule from src/domain.ts). */
export const PROJECTS = Symbol('PROJECTS');

export const projectAggregate: AggregateDefinition<ProjectState, ProjectEvent> = {
  kind: 'project',
  initialState: initialProjectState,
  evolve: evolveProject,
  projections: [projectsReadModel, membersReadModel],
  allocatedIds: (event) => (event.type === ProjectCreated ? [['project', event.data.projectId]] : []),
  schemas: PROJECT_EVENT_SCHEMAS,
};
