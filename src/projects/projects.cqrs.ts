import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { MemberView } from '../contract/projects.js';
import { streamIdOf, type AggregateStore, type Metadata } from '../event-store/aggregate-store.js';
import { REDACT_EVENT, type RedactEvent } from '../event-store/event-store.module.js';
import { EventStore } from '../event-store/event-store.js';
import { conflict, notFound } from '../shared/errors.js';
import { decodeCursor, pageOf, type Page } from '../shared/pagination.js';
import type { AuthenticatedUser } from '../http/request-context.js';
import { decideProject, initialProjectState, keyFromName, type ProjectState } from './project.decider.js';
import type { ProjectEvent, ProjectRole } from './project.events.js';
import { projectAggregate, PROJECTS, toProjectView, type ProjectRow, type ProjectView } from './project.projection.js';
import { approversMustBelong } from '../issues/approval.checks.js';
import type { ApprovalStep } from '../issues/issue.events.js';

export class CreateProjectCommand extends Command<ProjectView> {
  constructor(
    readonly name: string,
    readonly key: string | undefined,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class UpdateProjectCommand extends Command<ProjectView> {
  constructor(
    readonly projectId: number,
    readonly changes: { name?: string; approvalSteps?: ApprovalStep[] },
    readonly expectedVersion: number | undefined,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

const viewOf = (state: ProjectState, version: number): ProjectView => ({
  id: state.id,
  name: state.name,
  key: state.key,
  approvalSteps: state.approvalSteps,
  version,
  createdAt: state.createdAt,
  updatedAt: state.updatedAt,
});

@CommandHandler(CreateProjectCommand)
export class CreateProjectHandler implements ICommandHandler<CreateProjectCommand> {
  constructor(@Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>) {}

  async execute({ name, key, metadata }: CreateProjectCommand) {
    const { state, version } = await this.projects.create({ ids: { project: 1 }, idSequence: 'project', metadata }, async ({ ids, now }, tx) => {
      const projectId = ids.project[0];
      const taken = async (k: string) => (await tx.get(`SELECT 1 FROM rm_projects WHERE key = ?`, [k])) !== undefined;
      if (key !== undefined && (await taken(key))) throw conflict(`project key ${key} is already used`);
      const derived = keyFromName(name);
      const chosen = key ?? ((await taken(derived)) ? `${derived}${projectId}` : derived);
      return decideProject({ kind: 'CreateProject', projectId, name, key: chosen }, initialProjectState, { now, actorId: metadata.actorId });
    });
    return viewOf(state, version);
  }
}

@CommandHandler(UpdateProjectCommand)
export class UpdateProjectHandler implements ICommandHandler<UpdateProjectCommand> {
  constructor(@Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>) {}

  async execute({ projectId, changes, expectedVersion, metadata }: UpdateProjectCommand) {
    const { state, version } = await this.projects.update(projectId, { expectedVersion, metadata }, async (s, { now }, tx) => {
      const ctx = { now, actorId: metadata.actorId };
      const events: ProjectEvent[] = [];
      if (changes.name !== undefined) events.push(...decideProject({ kind: 'RenameProject', name: changes.name }, s, ctx));
      if (changes.approvalSteps !== undefined) {
        await approversMustBelong(tx, projectId, changes.approvalSteps, 'approvalSteps');
        events.push(...decideProject({ kind: 'SetApprovalSteps', steps: changes.approvalSteps }, s, ctx));
      }
      return events;
    });
    return viewOf(state, version);
  }
}

export class GetProjectQuery extends Query<ProjectView> {
  constructor(readonly projectId: number) {
    super();
  }
}

export class ListProjectsQuery extends Query<Page<ProjectView>> {
  constructor(
    readonly user: AuthenticatedUser,
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(GetProjectQuery)
export class GetProjectHandler implements IQueryHandler<GetProjectQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId }: GetProjectQuery) {
    const row = await this.store.queryOne<ProjectRow>(`SELECT * FROM rm_projects WHERE id = ?`, [projectId]);
    if (!row) throw notFound('project', projectId);
    return toProjectView(row);
  }
}

@QueryHandler(ListProjectsQuery)
export class ListProjectsHandler implements IQueryHandler<ListProjectsQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ user, limit, cursor }: ListProjectsQuery) {
    const after = decodeCursor('projects', cursor) ?? 0;
    const rows =
      user.role === 'ADMIN'
        ? await this.store.query<ProjectRow>(`SELECT * FROM rm_projects WHERE id > ? ORDER BY id LIMIT ?`, [after, limit + 1])
        : await this.store.query<ProjectRow>(
            `SELECT p.* FROM rm_projects p JOIN rm_project_members m ON m.project_id = p.id AND m.user_id = ?
             WHERE p.id > ? ORDER BY p.id LIMIT ?`,
            [user.id, after, limit + 1],
          );
    return pageOf('projects', rows.map(toProjectView), limit);
  }
}

export class SetMemberCommand extends Command<{ projectId: number; userId: number; role: ProjectRole }> {
  constructor(
    readonly projectId: number,
    readonly userId: number,
    readonly role: ProjectRole,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class RemoveMemberCommand extends Command<void> {
  constructor(
    readonly projectId: number,
    readonly userId: number,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class ListMembersQuery extends Query<MemberView[]> {
  constructor(readonly projectId: number) {
    super();
  }
}

@CommandHandler(SetMemberCommand)
export class SetMemberHandler implements ICommandHandler<SetMemberCommand> {
  constructor(@Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>, private readonly store: EventStore) {}
  async execute({ projectId, userId, role, metadata }: SetMemberCommand) {
    if (!(await this.store.queryOne(`SELECT 1 FROM rm_users WHERE id = ? AND role <> 'SYSTEM'`, [userId]))) throw notFound('user', userId);
    await this.projects.update(projectId, { metadata }, (s, { now }) => decideProject({ kind: 'SetMember', userId, role }, s, { now, actorId: metadata.actorId }));
    return { projectId, userId, role };
  }
}

@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand> {
  constructor(@Inject(PROJECTS) private readonly projects: AggregateStore<ProjectState, ProjectEvent>) {}
  async execute({ projectId, userId, metadata }: RemoveMemberCommand) {
    await this.projects.update(projectId, { metadata }, (s, { now }) => decideProject({ kind: 'RemoveMember', userId }, s, { now, actorId: metadata.actorId }));
  }
}

@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId }: ListMembersQuery) {
    if (!(await this.store.queryOne(`SELECT 1 FROM rm_projects WHERE id = ?`, [projectId]))) throw notFound('project', projectId);
    return this.store.query<MemberView>(
      `SELECT m.user_id AS "userId", u.name, u.email, m.role FROM rm_project_members m JOIN rm_users u ON u.id = m.user_id WHERE m.project_id = ? ORDER BY m.user_id`,
      [projectId],
    );
  }
}

export interface AuditEntry {
  position: number;
  type: string;
  actorId: number;
  occurredAt: string;
  data: unknown;
}

/** Who changed a project's settings, members and webhooks: its own stream, secrets redacted. */
export class ProjectAuditQuery extends Query<Page<AuditEntry & { id: number }>> {
  constructor(
    readonly projectId: number,
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(ProjectAuditQuery)
export class ProjectAuditHandler implements IQueryHandler<ProjectAuditQuery> {
  constructor(
    private readonly store: EventStore,
    @Inject(REDACT_EVENT) private readonly redact: RedactEvent,
  ) {}
  async execute({ projectId, limit, cursor }: ProjectAuditQuery) {
    const scope = `audit-${projectId}`;
    const after = decodeCursor(scope, cursor) ?? 0;
    const events = await this.store.readStream(streamIdOf(projectAggregate.kind, projectId));
    if (events.length === 0) throw notFound('project', projectId);
    const entries = events
      .filter((e) => e.version > after)
      .map(this.redact)
      .map((e) => ({ id: e.version, position: e.position, type: e.type, actorId: e.metadata.actorId, occurredAt: e.occurredAt, data: e.data }));
    return pageOf(scope, entries.slice(0, limit + 1), limit);
  }
}
