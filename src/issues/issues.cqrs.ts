import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AggregateStore, Metadata } from '../event-store/aggregate-store.js';
import type { RecordedEvent } from '../event-store/event.js';
import { EventStore, type WriteTx } from '../event-store/event-store.js';
import { forbidden, invalid, notFound } from '../shared/errors.js';
import { approversMustBelong, mayOverrideApproval, projectOwners } from './approval.checks.js';
import type { ApprovalCommand } from './issue.approval.js';
import { decodeCursor, pageOf, type Page } from '../shared/pagination.js';
import { decideIssue, type IssueCommand } from './issue.decider.js';
import { initialIssueState, type IssueState } from './issue.state.js';
import type { ApprovalStep, CommentCreatedV1, IssueEvent, IssueStatus, IssueType } from './issue.events.js';
import { ISSUES, toCommentView, toIssueView, type CommentRow, type CommentView, type IssueView } from './issue.projection.js';

export interface CreateIssueInput {
  name: string;
  type: IssueType;
  description?: string;
  assigneeId?: number | null;
  pipeline?: { stages: { name: string; tasks: { name: string }[] }[] };
  /** The issue's own approval steps; absent: the project's. */
  approvalSteps?: ApprovalStep[];
}

export class CreateIssueCommand extends Command<IssueView> {
  constructor(
    readonly projectId: number,
    readonly input: CreateIssueInput,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

/** Every change to an existing issue: the decider tells them apart by `change.kind`. */
abstract class IssueChange<R> extends Command<R> {
  constructor(
    readonly issueId: number,
    readonly expectedVersion: number | undefined,
    readonly metadata: Metadata,
  ) {
    super();
  }
}

export class UpdateIssueCommand extends IssueChange<IssueView> {
  constructor(issueId: number, readonly fields: Omit<Extract<IssueCommand, { kind: 'UpdateIssueFields' }>, 'kind'>, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

export class ChangeIssueStatusCommand extends IssueChange<IssueView> {
  constructor(issueId: number, readonly to: IssueStatus, readonly comment: string | undefined, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

export class ChangeTaskStatusCommand extends IssueChange<IssueView> {
  constructor(issueId: number, readonly change: Omit<Extract<IssueCommand, { kind: 'ChangeTaskStatus' }>, 'kind'>, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

/** An approval decision: approve, send back (with a reason) or request again. */
export class DecideApprovalCommand extends IssueChange<IssueView> {
  constructor(issueId: number, readonly decision: ApprovalCommand, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

export class CreateCommentCommand extends IssueChange<CommentView> {
  constructor(issueId: number, readonly content: string, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

export class EditCommentCommand extends IssueChange<CommentView> {
  constructor(issueId: number, readonly commentId: number, readonly content: string, expectedVersion: number | undefined, metadata: Metadata) {
    super(issueId, expectedVersion, metadata);
  }
}

type Reader = Pick<WriteTx, 'get' | 'all'>;

async function assigneeMustExist(db: Reader, assigneeId: number | null | undefined): Promise<void> {
  if (assigneeId === undefined || assigneeId === null) return;
  if (!(await db.get(`SELECT 1 FROM rm_users WHERE id = ? AND role <> 'SYSTEM'`, [assigneeId]))) {
    throw invalid(`user ${assigneeId} does not exist`, [{ field: 'assigneeId', message: `user ${assigneeId} does not exist` }]);
  }
}

@CommandHandler(CreateIssueCommand)
export class CreateIssueHandler implements ICommandHandler<CreateIssueCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}

  async execute({ projectId, input, metadata }: CreateIssueCommand) {
    const stages = input.pipeline?.stages ?? [];
    const taskCount = stages.reduce((n, s) => n + s.tasks.length, 0);
    const committed = await this.issues.create(
      { ids: { issue: 1, stage: stages.length, task: taskCount }, idSequence: 'issue', metadata },
      async ({ now, ids }, tx) => {
        const project = await tx.get<{ approval_steps: string }>(`SELECT approval_steps FROM rm_projects WHERE id = ?`, [projectId]);
        if (!project) throw notFound('project', projectId);
        await assigneeMustExist(tx, input.assigneeId);
        const approvalSteps = await this.approvalSteps(tx, projectId, input, metadata.actorId, JSON.parse(project.approval_steps) as ApprovalStep[]);
        let t = 0;
        const pipeline = {
          stages: stages.map((stage, i) => ({ id: ids.stage[i], name: stage.name, tasks: stage.tasks.map((task) => ({ id: ids.task[t++], name: task.name })) })),
        };
        const command: IssueCommand = {
          kind: 'CreateIssue',
          issueId: ids.issue[0],
          projectId,
          name: input.name,
          type: input.type,
          description: input.description ?? '',
          assigneeId: input.assigneeId ?? null,
          pipeline,
          approvalSteps,
        };
        return decideIssue(command, initialIssueState, { now, actorId: metadata.actorId, projectOwners: await projectOwners(tx, projectId) });
      },
    );
    return toIssueView(committed.state, committed.version);
  }

  /** The issue's own steps (checked), else the project's. Only OWNERs and admins may replace a project's steps. */
  private async approvalSteps(tx: Reader, projectId: number, input: CreateIssueInput, actorId: number, projectSteps: ApprovalStep[]): Promise<ApprovalStep[]> {
    if (input.approvalSteps === undefined) return projectSteps;
    if (projectSteps.length > 0 && !(await mayOverrideApproval(tx, projectId, actorId))) {
      throw forbidden(`project ${projectId} sets the approval of its issues: only its OWNERs may give an issue other steps`);
    }
    await approversMustBelong(tx, projectId, input.approvalSteps, 'approval.steps');
    return input.approvalSteps;
  }
}

/** Load, decide, append: the same three steps for every change to an issue. */
function change(issues: AggregateStore<IssueState, IssueEvent>, command: IssueChange<unknown>, toDomain: IssueCommand, ids?: Record<string, number>) {
  return issues.update(command.issueId, { expectedVersion: command.expectedVersion, metadata: command.metadata, ids }, async (state, { now, ids: allocated }, tx) => {
    let domain = toDomain;
    if (domain.kind === 'UpdateIssueFields') await assigneeMustExist(tx, domain.assigneeId);
    if (domain.kind === 'CreateComment') domain = { ...domain, commentId: allocated.comment[0] };
    // role steps are decided by the project's owners as they are now
    const owners = domain.kind === 'Approve' || domain.kind === 'SendBack' || domain.kind === 'RequestApproval' ? await projectOwners(tx, state.projectId) : undefined;
    if (domain.kind === 'EditComment') {
      // the text is not part of the aggregate; an edit that changes nothing records nothing
      const current = await tx.get<{ content: string }>(`SELECT content FROM rm_comments WHERE id = ? AND issue_id = ?`, [domain.commentId, command.issueId]);
      domain = { ...domain, currentContent: current?.content };
    }
    return decideIssue(domain, state, { now, actorId: command.metadata.actorId, projectOwners: owners });
  });
}

@CommandHandler(UpdateIssueCommand)
export class UpdateIssueHandler implements ICommandHandler<UpdateIssueCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}
  async execute(command: UpdateIssueCommand) {
    const { state, version } = await change(this.issues, command, { kind: 'UpdateIssueFields', ...command.fields });
    return toIssueView(state, version);
  }
}

@CommandHandler(ChangeIssueStatusCommand)
export class ChangeIssueStatusHandler implements ICommandHandler<ChangeIssueStatusCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}
  async execute(command: ChangeIssueStatusCommand) {
    const { state, version } = await change(this.issues, command, { kind: 'ChangeIssueStatus', to: command.to, comment: command.comment });
    return toIssueView(state, version);
  }
}

@CommandHandler(ChangeTaskStatusCommand)
export class ChangeTaskStatusHandler implements ICommandHandler<ChangeTaskStatusCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}
  async execute(command: ChangeTaskStatusCommand) {
    const { state, version } = await change(this.issues, command, { kind: 'ChangeTaskStatus', ...command.change });
    return toIssueView(state, version);
  }
}

@CommandHandler(DecideApprovalCommand)
export class DecideApprovalHandler implements ICommandHandler<DecideApprovalCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}
  async execute(command: DecideApprovalCommand) {
    const { state, version } = await change(this.issues, command, command.decision);
    return toIssueView(state, version);
  }
}

@CommandHandler(CreateCommentCommand)
export class CreateCommentHandler implements ICommandHandler<CreateCommentCommand> {
  constructor(@Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>) {}
  async execute(command: CreateCommentCommand): Promise<CommentView> {
    const { events } = await change(this.issues, command, { kind: 'CreateComment', commentId: 0, content: command.content }, { comment: 1 });
    const created = events[0] as RecordedEvent<CommentCreatedV1>;
    const d = created.data;
    return { id: d.commentId, issueId: d.issueId, content: d.content, creatorId: created.metadata.actorId, createdAt: created.occurredAt, updatedAt: created.occurredAt };
  }
}

@CommandHandler(EditCommentCommand)
export class EditCommentHandler implements ICommandHandler<EditCommentCommand> {
  constructor(
    @Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>,
    private readonly store: EventStore,
  ) {}
  async execute(command: EditCommentCommand): Promise<CommentView> {
    await change(this.issues, command, { kind: 'EditComment', commentId: command.commentId, content: command.content });
    return toCommentView((await this.store.queryOne<CommentRow>(`SELECT * FROM rm_comments WHERE id = ?`, [command.commentId]))!);
  }
}

// ---------------------------------------------------------------- queries

export class GetIssueQuery extends Query<IssueView> {
  constructor(readonly issueId: number) {
    super();
  }
}

export class ListIssuesQuery extends Query<Page<IssueView>> {
  constructor(
    readonly projectId: number,
    readonly status: IssueStatus | undefined,
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

export class ListCommentsQuery extends Query<CommentView[]> {
  constructor(readonly issueId: number) {
    super();
  }
}

export class GetIssueEventsQuery extends Query<RecordedEvent[]> {
  constructor(readonly issueId: number) {
    super();
  }
}

@QueryHandler(GetIssueQuery)
export class GetIssueHandler implements IQueryHandler<GetIssueQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ issueId }: GetIssueQuery) {
    const row = await this.store.queryOne<{ doc: string }>(`SELECT doc FROM rm_issues WHERE id = ?`, [issueId]);
    if (!row) throw notFound('issue', issueId);
    return JSON.parse(row.doc) as IssueView;
  }
}

@QueryHandler(ListIssuesQuery)
export class ListIssuesHandler implements IQueryHandler<ListIssuesQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId, status, limit, cursor }: ListIssuesQuery) {
    if (!(await this.store.queryOne(`SELECT 1 FROM rm_projects WHERE id = ?`, [projectId]))) throw notFound('project', projectId);
    const scope = `issues-${projectId}`;
    const before = decodeCursor(scope, cursor) ?? Number.MAX_SAFE_INTEGER;
    // newest first
    const rows = status
      ? await this.store.query<{ doc: string }>(`SELECT doc FROM rm_issues WHERE project_id = ? AND status = ? AND id < ? ORDER BY id DESC LIMIT ?`, [projectId, status, before, limit + 1])
      : await this.store.query<{ doc: string }>(`SELECT doc FROM rm_issues WHERE project_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, [projectId, before, limit + 1]);
    return pageOf(scope, rows.map((r) => JSON.parse(r.doc) as IssueView), limit);
  }
}

@QueryHandler(ListCommentsQuery)
export class ListCommentsHandler implements IQueryHandler<ListCommentsQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ issueId }: ListCommentsQuery) {
    if (!(await this.store.queryOne(`SELECT 1 FROM rm_issues WHERE id = ?`, [issueId]))) throw notFound('issue', issueId);
    return (await this.store.query<CommentRow>(`SELECT * FROM rm_comments WHERE issue_id = ? ORDER BY id`, [issueId])).map(toCommentView);
  }
}

@QueryHandler(GetIssueEventsQuery)
export class GetIssueEventsHandler implements IQueryHandler<GetIssueEventsQuery> {
  constructor(
    @Inject(ISSUES) private readonly issues: AggregateStore<IssueState, IssueEvent>,
    private readonly store: EventStore,
  ) {}
  async execute({ issueId }: GetIssueEventsQuery) {
    const events = await this.store.readStream(this.issues.streamId(issueId));
    if (events.length === 0) throw notFound('issue', issueId);
    return events;
  }
}
