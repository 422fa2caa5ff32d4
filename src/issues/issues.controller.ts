import { Body, Controller, Get, Headers, HttpCode, Patch, Post, Query, Res } from '@nestjs/common';
import { IdParam } from '../shared/id-param.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RecordedEventSchema } from '../event-store/event.schema.js';
import { ApiIfMatch, ApiProblem, ApiVersioned } from '../shared/openapi.js';
import type { Metadata } from '../event-store/aggregate-store.js';
import { etag, expectedVersion } from '../shared/etag.js';
import { Actor } from '../http/request-context.js';
import { ForProject } from '../shared/route-access.js';
import { toApprovalSteps } from './dto/approval.dto.js';
import { ChangeIssueStatusDto, ChangeTaskStatusDto, CommentDto, CreateIssueDto, ListIssuesQueryDto, SendBackDto, UpdateIssueDto } from './dto/issue.dto.js';
import type { ApprovalCommand } from './issue.approval.js';
import { CommentSchema, IssuePageSchema, IssueSchema } from './dto/issue.responses.js';
import type { IssueView } from './issue.projection.js';
import {
  ChangeIssueStatusCommand,
  ChangeTaskStatusCommand,
  CreateCommentCommand,
  CreateIssueCommand,
  DecideApprovalCommand,
  EditCommentCommand,
  GetIssueEventsQuery,
  GetIssueQuery,
  ListCommentsQuery,
  ListIssuesQuery,
  UpdateIssueCommand,
} from './issues.cqrs.js';

interface Reply {
  header(name: string, value: string): Reply;
}

const withEtag = (reply: Reply, issue: IssueView) => {
  reply.header('etag', etag(issue.version));
  return issue;
};

const Id = IdParam;

@ApiTags('issues')
@Controller('api')
@ForProject('member')
export class IssuesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('projects/:projectId/issues')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an issue, with its pipeline of stages and tasks' })
  @ApiVersioned(201, IssueSchema, 'The new issue.')
  @ApiProblem(403, 'The project sets the approval of its issues, and the caller (not an OWNER) gave other steps.')
  async create(@Id('projectId') projectId: number, @Body() body: CreateIssueDto, @Actor() actor: Metadata, @Res({ passthrough: true }) reply: Reply) {
    const { approval, ...fields } = body;
    const input = { ...fields, ...(approval ? { approvalSteps: toApprovalSteps(approval.steps) } : {}) };
    return withEtag(reply, await this.commands.execute(new CreateIssueCommand(projectId, input, actor)));
  }

  @Get('projects/:projectId/issues')
  @ApiOperation({ summary: 'List a project’s issues, newest first' })
  @ApiOkResponse({ type: IssuePageSchema })
  list(@Id('projectId') projectId: number, @Query() query: ListIssuesQueryDto) {
    return this.queries.execute(new ListIssuesQuery(projectId, query.status, query.limit ?? 50, query.cursor));
  }

  @Get('issues/:issueId')
  @ApiOperation({ summary: 'Read an issue' })
  @ApiVersioned(200, IssueSchema, 'The issue.')
  async get(@Id('issueId') issueId: number, @Res({ passthrough: true }) reply: Reply) {
    return withEtag(reply, await this.queries.execute(new GetIssueQuery(issueId)));
  }

  @Patch('issues/:issueId')
  @ApiOperation({ summary: 'Change an issue’s name, description or assignee' })
  @ApiVersioned(200, IssueSchema, 'The issue after the change.')
  @ApiIfMatch()
  @ApiProblem(409, 'The issue is not OPEN.')
  async update(
    @Id('issueId') issueId: number,
    @Body() body: UpdateIssueDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: Reply,
  ) {
    const fields = { name: body.name, description: body.description, assigneeId: body.assigneeId };
    return withEtag(reply, await this.commands.execute(new UpdateIssueCommand(issueId, fields, expectedVersion(ifMatch), actor)));
  }

  @Post('issues/:issueId/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resolve, cancel or reopen an issue' })
  @ApiVersioned(200, IssueSchema, 'The issue after the change.')
  @ApiIfMatch()
  @ApiProblem(409, 'The issue already has that status, or cannot be resolved while tasks are unfinished or its approval is not complete.')
  async changeStatus(
    @Id('issueId') issueId: number,
    @Body() body: ChangeIssueStatusDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: Reply,
  ) {
    return withEtag(reply, await this.commands.execute(new ChangeIssueStatusCommand(issueId, body.status, body.comment, expectedVersion(ifMatch), actor)));
  }

  @Post('issues/:issueId/tasks/:taskId/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move a task to another status (or skip it)', description: 'Stage status changes follow from task changes.' })
  @ApiVersioned(200, IssueSchema, 'The issue after the change.')
  @ApiIfMatch()
  @ApiProblem(409, 'The move is not allowed from the task’s status, an earlier stage is not done, the issue’s approval is not complete, or the issue is not OPEN.')
  async changeTaskStatus(
    @Id('issueId') issueId: number,
    @Id('taskId') taskId: number,
    @Body() body: ChangeTaskStatusDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: Reply,
  ) {
    const change = { taskId, to: body.status, comment: body.comment, skipped: body.skipped, skippedReason: body.skippedReason };
    return withEtag(reply, await this.commands.execute(new ChangeTaskStatusCommand(issueId, change, expectedVersion(ifMatch), actor)));
  }

  @Post('issues/:issueId/approval/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve the current step of the issue’s approval (an approver of that step)', description: 'The next step starts; after the last the issue is APPROVED and its tasks may run.' })
  @ApiVersioned(200, IssueSchema, 'The issue after the decision.')
  @ApiIfMatch()
  @ApiProblem(403, 'The caller is not an approver of the current step.')
  @ApiProblem(409, 'The issue needs no approval, its approval is complete or was sent back, or the issue is not OPEN.')
  approve(@Id('issueId') issueId: number, @Headers('if-match') ifMatch: string | undefined, @Actor() actor: Metadata, @Res({ passthrough: true }) reply: Reply) {
    return this.decide(issueId, { kind: 'Approve' }, ifMatch, actor, reply);
  }

  @Post('issues/:issueId/approval/send-back')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send the issue back to its creator (an approver of the current step)', description: 'No step is decided until the creator requests approval again.' })
  @ApiVersioned(200, IssueSchema, 'The issue after the decision.')
  @ApiIfMatch()
  @ApiProblem(403, 'The caller is not an approver of the current step.')
  @ApiProblem(409, 'The issue needs no approval, its approval is complete or was sent back already, or the issue is not OPEN.')
  sendBack(@Id('issueId') issueId: number, @Body() body: SendBackDto, @Headers('if-match') ifMatch: string | undefined, @Actor() actor: Metadata, @Res({ passthrough: true }) reply: Reply) {
    return this.decide(issueId, { kind: 'SendBack', reason: body.reason }, ifMatch, actor, reply);
  }

  @Post('issues/:issueId/approval/request')
  @HttpCode(200)
  @ApiOperation({ summary: 'Request approval again after a send-back (the issue’s creator)', description: 'The approval starts over at the first step.' })
  @ApiVersioned(200, IssueSchema, 'The issue after the request.')
  @ApiIfMatch()
  @ApiProblem(403, 'The caller is not the issue’s creator.')
  @ApiProblem(409, 'The issue needs no approval, or its approval was not sent back, or the issue is not OPEN.')
  requestApproval(@Id('issueId') issueId: number, @Headers('if-match') ifMatch: string | undefined, @Actor() actor: Metadata, @Res({ passthrough: true }) reply: Reply) {
    return this.decide(issueId, { kind: 'RequestApproval' }, ifMatch, actor, reply);
  }

  private async decide(issueId: number, decision: ApprovalCommand, ifMatch: string | undefined, actor: Metadata, reply: Reply) {
    return withEtag(reply, await this.commands.execute(new DecideApprovalCommand(issueId, decision, expectedVersion(ifMatch), actor)));
  }

  @Post('issues/:issueId/comments')
  @HttpCode(201)
  @ApiOperation({ summary: 'Comment on an issue' })
  @ApiCreatedResponse({ type: CommentSchema, description: 'The new comment.' })
  @ApiIfMatch()
  createComment(@Id('issueId') issueId: number, @Body() body: CommentDto, @Headers('if-match') ifMatch: string | undefined, @Actor() actor: Metadata) {
    return this.commands.execute(new CreateCommentCommand(issueId, body.content, expectedVersion(ifMatch), actor));
  }

  @Get('issues/:issueId/comments')
  @ApiOperation({ summary: 'List an issue’s comments, oldest first' })
  @ApiOkResponse({ type: [CommentSchema] })
  comments(@Id('issueId') issueId: number) {
    return this.queries.execute(new ListCommentsQuery(issueId));
  }

  @Patch('issues/:issueId/comments/:commentId')
  @ApiOperation({ summary: 'Edit a comment (its author only)' })
  @ApiOkResponse({ type: CommentSchema, description: 'The comment after the edit.' })
  @ApiIfMatch()
  @ApiProblem(403, 'The caller is not the comment’s author.')
  editComment(
    @Id('issueId') issueId: number,
    @Id('commentId') commentId: number,
    @Body() body: CommentDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: Metadata,
  ) {
    return this.commands.execute(new EditCommentCommand(issueId, commentId, body.content, expectedVersion(ifMatch), actor));
  }

  @Get('issues/:issueId/events')
  @ApiOperation({ summary: 'The issue’s event stream, in order' })
  @ApiOkResponse({ type: [RecordedEventSchema] })
  events(@Id('issueId') issueId: number) {
    return this.queries.execute(new GetIssueEventsQuery(issueId));
  }
}
