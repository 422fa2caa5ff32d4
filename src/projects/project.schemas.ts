import { ApiProperty } from '@nestjs/swagger';
import { PageSchema } from '../shared/openapi.js';
import { ApprovalStepDto } from '../issues/dto/approval.dto.js';
import type { ApprovalStep } from '../issues/issue.events.js';
import type { AuditEntry } from './projects.cqrs.js';
import { PROJECT_ROLES, type ProjectRole } from './project.events.js';
import type { ProjectView } from './project.projection.js';
import type { MemberView } from '../contract/projects.js';

/** The API's shapes of projects, as documented in OpenAPI (`implements` keeps them in step with the views). */
export class ProjectSchema implements ProjectView {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 'Payments' }) name: string;
  @ApiProperty({ example: 'PAY' }) key: string;
  @ApiProperty({ type: [ApprovalStepDto], description: 'The approval new issues need unless they name their own; [] for none.' }) approvalSteps: ApprovalStep[];
  @ApiProperty({ description: 'The project stream’s version: also the ETag.' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export const ProjectPageSchema = PageSchema(ProjectSchema, 'ProjectPage');

export class MemberSchema implements MemberView {
  @ApiProperty() userId: number;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'email' }) email: string;
  @ApiProperty({ enum: PROJECT_ROLES }) role: ProjectRole;
}

export class MembershipSchema {
  @ApiProperty() projectId: number;
  @ApiProperty() userId: number;
  @ApiProperty({ enum: PROJECT_ROLES }) role: ProjectRole;
}

export class AuditEntrySchema implements AuditEntry {
  @ApiProperty({ description: 'The version of the project stream (pages are ordered by it).' }) id: number;
  @ApiProperty({ description: 'The global position in the log.' }) position: number;
  @ApiProperty({ example: 'project.member-set' }) type: string;
  @ApiProperty() actorId: number;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event’s payload, secrets redacted.' }) data: unknown;
}

export const AuditPageSchema = PageSchema(AuditEntrySchema, 'AuditPage');
