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
import { REPLAY_STATES, type ReplayState } from '../../contract/replays.js';
import { DELIVERY_STATUSES } from '../delivery/deliveries.js';
import { DRY_RUN_EVENTS, GetReplayQuery, PreviewReplayQuery, ReplayCommand, type ReplayItem, type ReplayPreview, type ReplayProgress, type ReplayRequest } from './replay.cqrs.js';

const END_DOC = 'An ISO time (the first event at or after it; for `to`, the last at or before it) or `position:<n>` (a position of the log).';

export class ReplayDto implements ReplayRequest {
  @ApiProperty({ maxLength: 40, description: END_DOC, example: '2026-03-01T00:00:00Z' })
  @IsString() @MaxLength(40) from: string;
  @ApiPropertyOptional({ maxLength: 40, description: `${END_DOC} Default: the end of the log now.`, example: 'position:5000' })
  @IsOptional() @IsString() @MaxLength(40) to?: string;
  @ApiPropertyOptional({ enum: ACTIVITY_TYPE_INPUTS, isArray: true, minItems: 1, maxItems: ACTIVITY_TYPE_INPUTS.length, description: 'Instead of the webhook’s own activity types.' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPE_INPUTS.length) @IsIn(ACTIVITY_TYPE_INPUTS, { each: true }) activityTypes?: string[];
  @ApiPropertyOptional({ default: false, description: `Send nothing: count and list (the first 100) what a real run would send, reading at most ${DRY_RUN_EVENTS.toLocaleString('en-US')} events of the range per request.` })
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

class ReplayPreviewSchema implements ReplayPreview {
  @ApiProperty({ description: 'Deliveries a real run would queue, in the part of the range read.' }) count: number;
  @ApiProperty({ type: [ReplayItemSchema], description: 'The first 100, in the log’s order.' }) items: ReplayItemSchema[];
  @ApiProperty({ description: 'The range as positions of the log (toPosition below fromPosition: no event in it).' }) fromPosition: number;
  @ApiProperty() toPosition: number;
  @ApiProperty({ description: 'The last position read: toPosition when the whole range was read.' }) scannedTo: number;
  @ApiProperty({ description: `The whole range was read (a dry run reads at most ${DRY_RUN_EVENTS.toLocaleString('en-US')} events).` }) complete: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'When not complete: the `from` of a dry run that goes on where this one stopped.', example: 'position:100001' }) next: string | null;
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
  @ApiProperty({ example: 'rpl_0f1e…' }) id: string;
  @ApiProperty() webhookId: number;
  @ApiProperty({ description: 'The range as positions of the log (toPosition below fromPosition: no event in it).' }) fromPosition: number;
  @ApiProperty() toPosition: number;
  @ApiProperty({ enum: REPLAY_STATES, description: '`scanning`: reading the range and queuing, in the background; `queued`: everything it sends is queued; `failed`: stopped (see error).' })
  state: ReplayState;
  @ApiProperty({ description: 'The last position of the range read so far.' }) scannedTo: number;
  @ApiProperty({ description: 'Deliveries queued so far (never one another replay queued first).' }) count: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why it failed.' }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: StatusCountsSchema, description: `Its deliveries by status (${DELIVERY_STATUSES.join(', ')}); for a replay of many, the last full count may be reused for a few seconds, what was read since added to it (counting takes at most about a twentieth of the service’s time).` })
  statuses: StatusCountsSchema;
  @ApiProperty({ description: 'Everything is queued and none of its deliveries is waiting or being attempted.' }) done: boolean;
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
      'In the log’s order, at the provider’s pace (after live activities), under the same delivery ids a live delivery has (an event already delivered is skipped unless includeDelivered), rendered as at the event with the webhook’s current provider and filter. ' +
      'It answers 202 at once with the replay’s progress; the range is read in the background (follow it at GET …/replays/{replayId}). ' +
      `\`dryRun: true\` sends nothing and answers 200 with what would be sent, reading at most ${DRY_RUN_EVENTS.toLocaleString('en-US')} events of the range (\`next\` goes on from there).`,
  })
  @ApiAcceptedResponse({ type: ReplayProgressSchema, description: 'Started: its progress as it starts (the Location header names where to follow it).' })
  @ApiOkResponse({ type: ReplayPreviewSchema, description: 'A dry run: nothing was sent.' })
  @ApiProblem(400, 'A range end that is neither an ISO time nor position:<n>, a time that is no instant (2026-02-30, T24:00), or `from` after `to`.')
  async replay(
    @IdParam('projectId') projectId: number,
    @IdParam('webhookId') webhookId: number,
    @Body() body: ReplayDto,
    @Actor() actor: Metadata,
    @Res({ passthrough: true }) reply: { status(code: number): unknown; header(name: string, value: string): unknown },
  ): Promise<ReplayPreview | ReplayProgress> {
    if (body.dryRun) {
      reply.status(200);
      return this.queries.execute(new PreviewReplayQuery(projectId, webhookId, body));
    }
    const progress = await this.commands.execute(new ReplayCommand(projectId, webhookId, body, actor));
    reply.header('location', `/api/projects/${projectId}/webhooks/${webhookId}/replays/${progress.id}`);
    return progress;
  }

  @Get('replays/:replayId')
  @ApiOperation({ summary: 'A replay’s progress: how far it has read its range, what it queued, its deliveries by status, and whether it failed' })
  @ApiOkResponse({ type: ReplayProgressSchema })
  progress(@IdParam('projectId') projectId: number, @IdParam('webhookId') webhookId: number, @Param('replayId') replayId: string) {
    return this.queries.execute(new GetReplayQuery(projectId, webhookId, replayId));
  }
}
