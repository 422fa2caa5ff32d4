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
import { ISSUE_STATUSES, ISSUE_TYPES, TASK_STATUSES, type IssueStatus, type IssueType, type TaskStatus } from '../issue.events.js';

export const MAX_TEXT = 65_536;

export class TaskSpecDto {
  @IsString() @Length(1, 200) name: string;
}

export class StageSpecDto {
  @IsString() @Length(1, 200) name: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(200) @ValidateNested({ each: true }) @Type(() => TaskSpecDto) tasks: TaskSpecDto[];
}

export class PipelineSpecDto {
  @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => StageSpecDto) stages: StageSpecDto[];
}

export class CreateIssueDto {
  @IsString() @Length(1, 200) name: string;
  @IsIn(ISSUE_TYPES) type: IssueType;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) description?: string;
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) assigneeId?: number | null;
  @IsOptional() @ValidateNested() @Type(() => PipelineSpecDto) pipeline?: PipelineSpecDto;
}

export class UpdateIssueDto {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) description?: string;
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) assigneeId?: number | null;
}

export class ChangeIssueStatusDto {
  @IsIn(ISSUE_STATUSES) status: IssueStatus;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) comment?: string;
}

export class ChangeTaskStatusDto {
  @IsIn(TASK_STATUSES) status: TaskStatus;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT) comment?: string;
  @IsOptional() @IsBoolean() skipped?: boolean;
  @IsOptional() @IsString() @Length(1, 1000) skippedReason?: string;
}

export class CommentDto {
  @IsString() @Length(1, MAX_TEXT) content: string;
}

export class ListIssuesQueryDto extends PageQuery {
  @IsOptional() @IsIn(ISSUE_STATUSES) status?: IssueStatus;
}
