import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { FilterTrialInput, FilterTrialItem, FilterTrialView } from '../../contract/webhooks.js';
import { IdParam } from '../../shared/id-param.js';
import { ApiProblem } from '../../shared/openapi.js';
import { ForProject } from '../../shared/route-access.js';
import { FILTER_DOC, FILTER_MAX_LENGTH } from './filter.js';
import { TryFilterQuery } from './filter-trial.query.js';

export class FilterTrialDto implements FilterTrialInput {
  @ApiProperty({ maxLength: FILTER_MAX_LENGTH, description: FILTER_DOC, example: 'level == "ERROR" && stage.name == "prod"' })
  @IsString() @MaxLength(FILTER_MAX_LENGTH) filter: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 50, default: 20 })
  @IsOptional() @IsInt() @Min(1) @Max(50) limit?: number;
}

class FilterTrialItemSchema implements FilterTrialItem {
  @ApiProperty() position: number;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty() issueId: number;
  @ApiProperty({ example: 'bb.issue.comment.create' }) activityType: string;
  @ApiProperty() title: string;
  @ApiProperty({ description: 'Whether the filter lets it through.' }) matched: boolean;
  @ApiPropertyOptional({ description: 'Why the filter failed on it (it then lets nothing through), or `the filter exceeded its budget`.' }) error?: string;
  @ApiProperty({ description: 'The steps the evaluation used, of `budget`.' }) steps: number;
}

class FilterTrialSchema implements FilterTrialView {
  @ApiProperty({ description: 'The steps any one evaluation may use.', example: 3000000 }) budget: number;
  @ApiProperty({ description: 'The most one evaluation of this filter could use, on the largest activity (a 65,536-character description).' }) worstCaseSteps: number;
  @ApiProperty({ type: [FilterTrialItemSchema], description: 'The project’s last activities, newest first.' }) items: FilterTrialItemSchema[];
}

/** A filter tried on the project's last activities before it is saved (OWNERs, who set filters). */
@ApiTags('webhooks')
@Controller('api/projects/:projectId/webhooks/filter-trial')
@ForProject('owner')
export class FilterTrialController {
  constructor(private readonly queries: QueryBus) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Try a filter on the project’s last activities',
    description: 'Judged as saving would judge it (a 400 naming the position and the problem), then evaluated on the project’s last activities (default 20), each as the scheduler would see it; nothing is saved.',
  })
  @ApiOkResponse({ type: FilterTrialSchema })
  @ApiProblem(400, 'The filter does not parse, type-check, or could exceed its budget: `errors[0].message` names the position and the problem.')
  try(@IdParam('projectId') projectId: number, @Body() body: FilterTrialDto): Promise<FilterTrialView> {
    return this.queries.execute(new TryFilterQuery(projectId, body.filter, body.limit));
  }
}
