import { ApiProperty } from '@nestjs/swagger';
import { PageSchema } from '../../shared/openapi.js';
import { ISSUE_STATUSES, ISSUE_TYPES, TASK_STATUSES } from '../issue.events.js';
import type { CommentView, IssueView } from '../issue.projection.js';

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
