import { Body, Controller, Delete, Get, Headers, HttpCode, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { IdParam } from '../shared/id-param.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiIfMatch, ApiProblem, ApiVersioned } from '../shared/openapi.js';
import { AuditPageSchema, MemberSchema, MembershipSchema, ProjectPageSchema, ProjectSchema } from './project.schemas.js';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { ApprovalStepDto, approvalStepsDoc, MAX_APPROVAL_STEPS, toApprovalSteps } from '../issues/dto/approval.dto.js';
import { ForProject } from '../shared/route-access.js';
import { PROJECT_ROLES, type ProjectRole } from './project.events.js';
import type { Metadata } from '../event-store/aggregate-store.js';
import { etag, expectedVersion } from '../shared/etag.js';
import { PageQuery } from '../shared/pagination.js';
import { Actor, CurrentUser, type AuthenticatedUser } from '../http/request-context.js';
import type { ProjectView } from './project.projection.js';
import { CreateProjectCommand, GetProjectQuery, ListMembersQuery, ListProjectsQuery, ProjectAuditQuery, RemoveMemberCommand, SetMemberCommand, UpdateProjectCommand } from './projects.cqrs.js';

export class CreateProjectDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Payments' })
  @IsString() @Length(1, 200) name: string;
  @ApiPropertyOptional({ pattern: '^[A-Z][A-Z0-9_]{0,15}$', description: 'A short upper-case key; made from the name when absent.', example: 'PAY' })
  @IsOptional() @IsString() @Matches(/^[A-Z][A-Z0-9_]{0,15}$/, { message: 'key must be 1-16 upper-case letters, digits or _, starting with a letter' })
  key?: string;
}

export class SetMemberDto {
  @ApiProperty({ enum: PROJECT_ROLES })
  @IsIn(PROJECT_ROLES) role: ProjectRole;
}

export class UpdateProjectDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({
    type: [ApprovalStepDto],
    maxItems: MAX_APPROVAL_STEPS,
    description: approvalStepsDoc('The approval new issues need unless their creator (an OWNER) names other steps; [] for none. Decided in order, each by one approver.'),
  })
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_APPROVAL_STEPS) @ValidateNested({ each: true }) @Type(() => ApprovalStepDto)
  approvalSteps?: ApprovalStepDto[];
}

interface Reply {
  header(name: string, value: string): Reply;
}

const withEtag = (reply: Reply, view: ProjectView) => {
  reply.header('etag', etag(view.version));
  return view;
};

@ApiTags('projects')
@Controller('api/projects')
export class ProjectsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a project (the caller becomes its OWNER)' })
  @ApiVersioned(201, ProjectSchema, 'The new project.')
  @ApiProblem(409, 'The key is already used by another project.')
  async create(@Body() body: CreateProjectDto, @Actor() actor: Metadata, @Res({ passthrough: true }) reply: Reply) {
    return withEtag(reply, await this.commands.execute(new CreateProjectCommand(body.name, body.key, actor)));
  }

  @Get()
  @ApiOperation({ summary: 'List the projects the caller is a member of (all of them for admins)' })
  @ApiOkResponse({ type: ProjectPageSchema })
  list(@Query() page: PageQuery, @CurrentUser() user: AuthenticatedUser) {
    return this.queries.execute(new ListProjectsQuery(user, page.limit ?? 50, page.cursor));
  }

  @Get(':projectId')
  @ForProject('member')
  @ApiOperation({ summary: 'Read a project' })
  @ApiVersioned(200, ProjectSchema, 'The project.')
  async get(@IdParam('projectId') projectId: number, @Res({ passthrough: true }) reply: Reply) {
    return withEtag(reply, await this.queries.execute(new GetProjectQuery(projectId)));
  }

  @Patch(':projectId')
  @ForProject('owner')
  @ApiOperation({ summary: 'Rename a project, or set the approval its new issues need' })
  @ApiVersioned(200, ProjectSchema, 'The project after the change.')
  @ApiIfMatch()
  async update(
    @IdParam('projectId') projectId: number,
    @Body() body: UpdateProjectDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: Reply,
  ) {
    const version = expectedVersion(ifMatch);
    if (body.name === undefined && body.approvalSteps === undefined) return withEtag(reply, await this.queries.execute(new GetProjectQuery(projectId)));
    const changes = { name: body.name, approvalSteps: body.approvalSteps && toApprovalSteps(body.approvalSteps) };
    return withEtag(reply, await this.commands.execute(new UpdateProjectCommand(projectId, changes, version, actor)));
  }

  @Get(':projectId/members')
  @ForProject('member')
  @ApiOperation({ summary: 'List a project’s members and their roles' })
  @ApiOkResponse({ type: [MemberSchema] })
  members(@IdParam('projectId') projectId: number) {
    return this.queries.execute(new ListMembersQuery(projectId));
  }

  @Put(':projectId/members/:userId')
  @ForProject('owner')
  @ApiOperation({ summary: 'Add a member, or change a member’s role' })
  @ApiOkResponse({ type: MembershipSchema })
  @ApiProblem(409, 'The change would leave the project without an OWNER.')
  setMember(@IdParam('projectId') projectId: number, @IdParam('userId') userId: number, @Body() body: SetMemberDto, @Actor() actor: Metadata) {
    return this.commands.execute(new SetMemberCommand(projectId, userId, body.role, actor));
  }

  @Delete(':projectId/members/:userId')
  @ForProject('owner')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member' })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiProblem(409, 'The user is the project’s last OWNER.')
  async removeMember(@IdParam('projectId') projectId: number, @IdParam('userId') userId: number, @Actor() actor: Metadata) {
    await this.commands.execute(new RemoveMemberCommand(projectId, userId, actor));
  }

  @Get(':projectId/audit')
  @ForProject('owner')
  @ApiOperation({ summary: 'Who changed the project, its members and its webhooks, and when (secrets redacted)' })
  @ApiOkResponse({ type: AuditPageSchema })
  audit(@IdParam('projectId') projectId: number, @Query() page: PageQuery) {
    return this.queries.execute(new ProjectAuditQuery(projectId, page.limit ?? 50, page.cursor));
  }
}
