import { Controller, Get } from '@nestjs/common';
import { IdParam } from '../shared/id-param.js';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ForProject } from '../shared/route-access.js';
import { HourlyDeliveriesQuery } from './delivery-stats.js';
import { HourlyDeliveriesSchema } from './delivery-stats.schemas.js';

const Id = IdParam;

/** Counts only (no bodies, no URLs): every member may read them, like the delivery list. */
@ApiTags('webhooks')
@Controller('api/projects/:projectId/webhooks/:webhookId/deliveries/hourly')
@ForProject('member')
export class DeliveryStatsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'The webhook’s deliveries per hour over the last 24 hours, by final status',
    description: 'Each delivery counts in the hour it was created, by its status now. The delivery console draws its chart from it.',
  })
  @ApiOkResponse({ type: HourlyDeliveriesSchema })
  hourly(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.queries.execute(new HourlyDeliveriesQuery(projectId, webhookId));
  }
}
