import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, Min, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { APPROVAL_ROLES, type ApprovalRole, type ApprovalStep } from '../issue.events.js';

/** At most this many steps, and listed approvers per step (each is mentioned when its step is asked). */
export const MAX_APPROVAL_STEPS = 10;
export const MAX_STEP_APPROVERS = 20;

const STEP_DOC = 'Exactly one of `approvers` (any one of these users approves the step) and `role` (any project member holding it approves).';

export class ApprovalStepDto {
  @ApiPropertyOptional({ type: 'integer', isArray: true, minimum: 1, minItems: 1, maxItems: MAX_STEP_APPROVERS, uniqueItems: true, description: 'User ids: members of the project (or admins).' })
  @ValidateIf((step: ApprovalStepDto) => step.role === undefined || step.approvers !== undefined)
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_STEP_APPROVERS) @ArrayUnique() @IsInt({ each: true }) @Min(1, { each: true })
  approvers?: number[];

  @ApiPropertyOptional({ enum: APPROVAL_ROLES, description: 'The project role whose members may approve the step.' })
  @ValidateIf((step: ApprovalStepDto) => step.approvers === undefined || step.role !== undefined)
  @ValidateBy({
    name: 'approversOrRole',
    validator: {
      validate: (role: unknown, args) => ((args?.object as ApprovalStepDto).approvers === undefined) !== (role === undefined),
      defaultMessage: () => 'a step has either approvers or a role, not both',
    },
  })
  @IsIn(APPROVAL_ROLES)
  role?: ApprovalRole;
}

export const approvalStepsDoc = (what: string) => `${what} ${STEP_DOC}`;

export class ApprovalDto {
  @ApiProperty({ type: [ApprovalStepDto], minItems: 1, maxItems: MAX_APPROVAL_STEPS, description: approvalStepsDoc('Decided in order, each by one approver.') })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_APPROVAL_STEPS) @ValidateNested({ each: true }) @Type(() => ApprovalStepDto)
  steps: ApprovalStepDto[];
}

/** The domain's shape of validated steps. */
export function toApprovalSteps(steps: ApprovalStepDto[]): ApprovalStep[] {
  return steps.map((step) => (step.approvers !== undefined ? { approvers: [...step.approvers] } : { role: step.role! }));
}
