import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { Metadata } from '../../event-store/aggregate-store.js';
import { IdParam } from '../../shared/id-param.js';
import { ApiProblem } from '../../shared/openapi.js';
import { Actor } from '../../http/request-context.js';
import { ForProject } from '../../shared/route-access.js';
import { ACTIVITY_TYPE_INPUTS } from '../activity.js';
import { DELIVERY_STATUSES } from '../delivery/deliveries.js';
import { GetReplayQuery, ReplayCommand, type ReplayItem, type ReplayProgress, type ReplayRequest, type ReplayResult } from './replay.cqrs.js';

const END_DOC = 'An ISO time (the first event at or after it; for `to`, the last at or before it) or `position:<n>` (a position of the log).';

export class ReplayDto implements ReplayRequest {
  @ApiProperty({ maxLength: 40, description: END_DOC, example: '2026-03-01T00:00:00Z' })
  @IsString() @MaxLength(40) from: string;
  @ApiPropertyOptional({ maxLength: 40, description: `${END_DOC} Default: the end of the log now.`, example: 'position:5000' })
  @IsOptional() @IsString() @MaxLength(40) to?: string;
  @ApiPropertyOptional({ enum: ACTIVITY_TYPE_INPUTS, isArray: true, minItems: 1, maxItems: ACTIVITY_TYPE_INPUTS.length, description: 'Instead of the webhook’s own activity types.' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPE_INPUTS.length) @IsIn(ACTIVITY_TYPE_INPUTS, { each: true }) activityTypes?: string[];
  @ApiPropertyOptional({ default: false, description: 'Send nothing: count and list (the first 100) what a real run would send.' })
  @IsOptional() @IsBoolean() dryRun?: boolean;
  @ApiPropertyOptional({ default: false, description: 'Send again what was already delivered to this webhook (under the same webhook-id).' })
  @IsOptional() @IsBoolean() includeDelivered?: boolean;
}

class ReplayItemSchema implements ReplayItem {
  @ApiProperty() eventId: string;
  @ApiProperty() position: number;
  @ApiProperty() activityType: string;
  @ApiProperty() title: string;
  @ApiProperty({ type: 'integer', nullable: true }) issueId: number | null;
  @ApiProperty({ description: 'The event’s time, epoch seconds.' }) createdTs: number;
  @ApiProperty({ description: 'Delivered to this webhook before (sent again only with includeDelivered).' }) alreadyDelivered: boolean;
}

class ReplayResultSchema implements ReplayResult {
  @ApiPropertyOptional({ description: 'Absent for a dry run.', example: 'rpl_0f1e…' }) replayId?: string;
  @ApiProperty({ description: 'Deliveries queued (or, in a dry run, that would be).' }) count: number;
  @ApiProperty({ type: [ReplayItemSchema], description: 'The first 100, in the log’s order.' }) items: ReplayItemSchema[];
}

class StatusCountsSchema {
  @ApiProperty() PENDING: number;
  @ApiProperty() DELIVERING: number;
  @ApiProperty() DELIVERED: number;
  @ApiProperty() RETRYING: number;
  @ApiProperty() FAILED: number;
  @ApiProperty() HELD: number;
  @ApiProperty() SKIPPED: number;
  @ApiProperty() COALESCED: number;
}

class ReplayProgressSchema implements ReplayProgress {
  @ApiProperty() id: string;
  @ApiProperty() webhookId: number;
  @ApiProperty() fromPosition: number;
  @ApiProperty() toPosition: number;
  @ApiProperty() count: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: StatusCountsSchema, description: `Its deliveries by status now (${DELIVERY_STATUSES.join(', ')}).` }) statuses: StatusCountsSchema;
  @ApiProperty({ description: 'None of its deliveries is waiting or being attempted.' }) done: boolean;
}

/** Replays and backfills of the log to one webhook (OWNERs run them; members follow them). */
@ApiTags('webhooks')
@Controller('api/projects/:projectId/webhooks/:webhookId')
@ForProject('member')
export class ReplayController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('replay')
  @ForProject('owner')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send the log’s activities of a range to this webhook again (or for the first time): a backfill or a replay',
    description:
      'In the log’s order, at the provider’s pace, under the same delivery ids a live delivery has (an event already delivered is skipped unless includeDelivered), rendered as at the event with the webhook’s current provider and filter. `dryRun: true` sends nothing and answers 200 with what would be sent.',
  })
  @ApiAcceptedResponse({ type: ReplayResultSchema, description: 'Queued (a dry run answers 200 with the same shape and no replayId).' })
  @ApiOkResponse({ type: ReplayResultSchema, description: 'A dry run: nothing was sent.' })
  @ApiProblem(400, 'A range end that is neither an ISO time nor position:<n>.')
  async replay(
    @IdParam('projectId') projectId: number,
    @IdParam('webhookId') webhookId: number,
    @Body() body: ReplayDto,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ) {
    const result = await this.commands.execute(new ReplayCommand(projectId, webhookId, body, actor));
    if (body.dryRun) reply.status(200);
    return result;
  }

  @Get('replays/:replayId')
  @ApiOperation({ summary: 'A replay’s progress: its deliveries by status' })
  @ApiOkResponse({ type: ReplayProgressSchema })
  progress(@IdParam('projectId') projectId: number, @IdParam('webhookId') webhookId: number, @Param('replayId') replayId: string) {
    return this.queries.execute(new GetReplayQuery(projectId, webhookId, replayId));
  }
}
