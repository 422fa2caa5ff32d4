import { ApiProperty } from '@nestjs/swagger';
import { PageSchema } from '../../shared/openapi.js';
import { APPROVAL_ROLES, APPROVAL_STATUSES, ISSUE_STATUSES, ISSUE_TYPES, TASK_STATUSES } from '../issue.events.js';
import type { ApprovalView, CommentView, IssueView } from '../issue.projection.js';

/** The API's shapes of issues, as documented in OpenAPI (`implements` keeps them in step with the views). */
type TaskView = IssueView['pipeline']['stages'][number]['tasks'][number];
type StageView = IssueView['pipeline']['stages'][number];

export class TaskSchema implements TaskView {
  @ApiProperty({ example: 3 }) id: number;
  @ApiProperty({ example: 'db-prod-1' }) name: string;
  @ApiProperty({ enum: TASK_STATUSES }) status: string;
  @ApiProperty() skipped: boolean;
  @ApiProperty({ type: String, nullable: true }) skippedReason: string | null;
}

export class StageSchema implements StageView {
  @ApiProperty({ example: 2 }) id: number;
  @ApiProperty({ example: 'prod' }) name: string;
  @ApiProperty({ enum: TASK_STATUSES, description: 'Derived from its tasks.' }) status: string;
  @ApiProperty({ type: [TaskSchema] }) tasks: TaskSchema[];
}

export class PipelineSchema {
  @ApiProperty({ type: [StageSchema] }) stages: StageSchema[];
}

type ApprovalStepView = ApprovalView['steps'][number];

export class ApprovalStepSchema implements ApprovalStepView {
  @ApiProperty({ type: 'integer', isArray: true, nullable: true, description: 'The users who may approve this step; null for a role step.', example: [4, 5] })
  approvers: number[] | null;
  @ApiProperty({ enum: APPROVAL_ROLES, nullable: true, description: 'Any member holding this role may approve the step; null for a step of listed users.' })
  role: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Who approved the step in the current round; null: not yet.' }) approvedBy: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) approvedAt: string | null;
}

export class SentBackSchema {
  @ApiProperty({ description: 'The approver who sent the issue back.' }) by: number;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'The step (from 0) it was sent back at.' }) step: number;
  @ApiProperty() reason: string;
}

export class ApprovalSchema implements ApprovalView {
  @ApiProperty({ enum: APPROVAL_STATUSES, description: 'PENDING: a step waits for an approver; SENT_BACK: the creator must request approval again; APPROVED: every step approved.' })
  status: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The index (from 0) of the step waiting for a decision; null once approved.' }) currentStep: number | null;
  @ApiProperty({ type: 'integer', isArray: true, description: 'The users asked to approve the current step (for a role step, its members when the step started); empty unless PENDING.' })
  currentApprovers: number[];
  @ApiProperty({ type: [ApprovalStepSchema] }) steps: ApprovalStepSchema[];
  @ApiProperty({ type: SentBackSchema, nullable: true, description: 'The send-back that ended the current round; null otherwise.' }) sentBack: SentBackSchema | null;
}

export class IssueSchema implements IssueView {
  @ApiProperty({ example: 12 }) id: number;
  @ApiProperty({ example: 1 }) projectId: number;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ISSUE_TYPES }) type: string;
  @ApiProperty({ enum: ISSUE_STATUSES }) status: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'integer', nullable: true }) assigneeId: number | null;
  @ApiProperty() creatorId: number;
  @ApiProperty({ description: 'The issue stream’s version: also the ETag (`"<version>"`) to send in If-Match.' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: PipelineSchema }) pipeline: PipelineSchema;
  @ApiProperty({ type: ApprovalSchema, nullable: true, description: 'The approval the issue needs before its tasks may leave PENDING_APPROVAL; null: none.' })
  approval: ApprovalSchema | null;
}

export const IssuePageSchema = PageSchema(IssueSchema, 'IssuePage');

export class CommentSchema implements CommentView {
  @ApiProperty() id: number;
  @ApiProperty() issueId: number;
  @ApiProperty() content: string;
  @ApiProperty() creatorId: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
