import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PageQuery } from '../../shared/pagination.js';
import { ApprovalDto } from './approval.dto.js';
import { ISSUE_STATUSES, ISSUE_TYPES, TASK_STATUSES, type IssueStatus, type IssueType, type TaskStatus } from '../issue.events.js';

export const MAX_TEXT = 65_536;

export class TaskSpecDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'db-prod-1' })
  @IsString() @Length(1, 200) name: string;
}

export class StageSpecDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'prod' })
  @IsString() @Length(1, 200) name: string;
  @ApiProperty({ type: [TaskSpecDto], minItems: 1, maxItems: 200 })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(200) @ValidateNested({ each: true }) @Type(() => TaskSpecDto) tasks: TaskSpecDto[];
}

export class PipelineSpecDto {
  @ApiProperty({ type: [StageSpecDto], maxItems: 50, description: 'Stages run in order; each stage’s tasks together.' })
  @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => StageSpecDto) stages: StageSpecDto[];
}

export class CreateIssueDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Add index on orders.created_at' })
  @IsString() @Length(1, 200) name: string;
  @ApiProperty({ enum: ISSUE_TYPES })
  @IsIn(ISSUE_TYPES) type: IssueType;
  @ApiPropertyOptional({ maxLength: MAX_TEXT })
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) description?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, nullable: true, description: 'A user id; null for nobody.' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) assigneeId?: number | null;
  @ApiPropertyOptional({ type: PipelineSpecDto, description: 'Without it the issue has no stages.' })
  @IsOptional() @ValidateNested() @Type(() => PipelineSpecDto) pipeline?: PipelineSpecDto;
  @ApiPropertyOptional({
    type: ApprovalDto,
    description: 'The approval the issue needs before its tasks may leave PENDING_APPROVAL. Without it, the project’s `approvalSteps` (none: no approval). Where the project has steps, only its OWNERs (and admins) may give others.',
  })
  @IsOptional() @ValidateNested() @Type(() => ApprovalDto) approval?: ApprovalDto;
}

export class UpdateIssueDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ maxLength: MAX_TEXT })
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) description?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, nullable: true, description: 'A user id; null unassigns.' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) assigneeId?: number | null;
}

export class ChangeIssueStatusDto {
  @ApiProperty({ enum: ISSUE_STATUSES })
  @IsIn(ISSUE_STATUSES) status: IssueStatus;
  @ApiPropertyOptional({ maxLength: MAX_TEXT, description: 'Why (shown in the webhook message).' })
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) comment?: string;
}

export class ChangeTaskStatusDto {
  @ApiProperty({ enum: TASK_STATUSES })
  @IsIn(TASK_STATUSES) status: TaskStatus;
  @ApiPropertyOptional({ maxLength: MAX_TEXT })
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) comment?: string;
  @ApiPropertyOptional({ description: 'With status DONE: the task was skipped, not run.' })
  @IsOptional() @IsBoolean() skipped?: boolean;
  @ApiPropertyOptional({ minLength: 1, maxLength: 1000 })
  @IsOptional() @IsString() @Length(1, 1000) skippedReason?: string;
}

export class SendBackDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TEXT, description: 'Why: shown to the creator in the webhook message.', example: 'Add a rollback plan.' })
  @IsString() @Length(1, MAX_TEXT) reason: string;
}

export class CommentDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TEXT, example: 'Looks good to me.' })
  @IsString() @Length(1, MAX_TEXT) content: string;
}

export class ListIssuesQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: ISSUE_STATUSES })
  @IsOptional() @IsIn(ISSUE_STATUSES) status?: IssueStatus;
}
