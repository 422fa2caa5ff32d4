import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../../shared/id-param.js';
import { PageQuery } from '../../shared/pagination.js';
import { ForProject } from '../../shared/route-access.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';
import { DECISION_KINDS } from '../../contract/decisions.js';
import { DM_DECISION_KINDS, type DmDecisionKind, type DmDecisionView } from '../../contract/im-apps.js';
import { GetIssueDecisionsQuery, type DecisionKind, type DecisionView, type EventDecisionsView, type IssueDecisionsView } from './decisions.query.js';

class DmDecisionSchema implements DmDecisionView {
  @ApiProperty() userId: number;
  @ApiProperty({ enum: DM_DECISION_KINDS, description: 'dm-sent; dm-no-handle (nothing to find them by: mentioned in the channel); dm-fell-back (the vendor could not reach them: mentioned in the channel, `reason` says why); dm-failed; dm-scheduled (not sent yet).' }) decision: DmDecisionKind;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty() deliveryId: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
}

class DecisionSchema implements DecisionView {
  @ApiProperty() webhookId: number;
  @ApiProperty({ enum: DECISION_KINDS }) decision: DecisionKind;
  @ApiPropertyOptional({ description: '`filtered`: why the filter failed on this activity (it then lets nothing through).', example: 'division by zero' }) error?: string;
  @ApiPropertyOptional({ description: 'The delivery of this event to the webhook, when there is one (scheduled live, or by a replay).' }) deliveryId?: string;
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES }) status?: DeliveryStatus;
  @ApiPropertyOptional({ description: '`coalesced`: the delivery whose message carried this event.' }) into?: string;
  @ApiPropertyOptional({ description: '`filtered`: the webhook’s filter as it was at the event.' }) filter?: string;
  @ApiPropertyOptional({ type: [DmDecisionSchema], description: 'A webhook that sends direct messages: each person’s.' }) directMessages?: DmDecisionSchema[];
}

class EventDecisionsSchema implements EventDecisionsView {
  @ApiProperty() position: number;
  @ApiProperty() eventId: string;
  @ApiProperty({ example: 'issue.task-status-changed' }) eventType: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: no webhook hears of this event (a comment edit, say).' }) activityType: string | null;
  @ApiProperty({ type: String, nullable: true }) title: string | null;
  @ApiProperty({ type: [DecisionSchema], description: 'One per webhook the project has had (empty when the event is no activity).' }) decisions: DecisionSchema[];
}

class DecisionWebhookSchema {
  @ApiProperty() id: number;
  @ApiProperty() name: string;
  @ApiProperty() type: string;
  @ApiProperty() deleted: boolean;
}

class IssueDecisionsSchema implements IssueDecisionsView {
  @ApiProperty() issueId: number;
  @ApiProperty() projectId: number;
  @ApiProperty({ type: [DecisionWebhookSchema] }) webhooks: DecisionWebhookSchema[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Each decision in words.', example: { 'not-subscribed': 'the webhook did not subscribe to this activity type' } })
  reasons: Record<DecisionKind, string>;
  @ApiProperty({ type: [EventDecisionsSchema], description: 'The page’s events, in the log’s order.' }) items: EventDecisionsSchema[];
  @ApiProperty({ type: String, nullable: true, description: 'The cursor of the next page of events; null at the end of the issue’s stream.' }) nextCursor: string | null;
}

/** Project members may read why their issue's events went, or did not go, to each webhook. */
@ApiTags('webhooks')
@Controller('api/issues/:issueId/webhook-decisions')
@ForProject('member')
export class WebhookDecisionsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Why each event of the issue went, or did not go, to each webhook of its project',
    description:
      'Computed from the log with each webhook’s configuration as it was at the event: scheduled (with the delivery and its status), not-subscribed, filtered, webhook-disabled, webhook-created-later, webhook-deleted, or coalesced (into which delivery). Paged by events (`limit`, default 50, up to 200; `cursor`: the previous page’s `nextCursor`).',
  })
  @ApiOkResponse({ type: IssueDecisionsSchema })
  decisions(@IdParam('issueId') issueId: number, @Query() page: PageQuery) {
    return this.queries.execute(new GetIssueDecisionsQuery(issueId, page.limit ?? 50, page.cursor));
  }
}
