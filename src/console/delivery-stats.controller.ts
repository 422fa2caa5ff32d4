import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ForProject } from '../users/auth.guard.js';
import { HourlyDeliveriesQuery } from './delivery-stats.js';

const Id = (name: string) => Param(name, ParseIntPipe);

/** Counts only (no bodies, no URLs): every member may read them, like the delivery list. */
@Controller('api/projects/:projectId/webhooks/:webhookId/deliveries/hourly')
@ForProject('member')
export class DeliveryStatsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  hourly(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.queries.execute(new HourlyDeliveriesQuery(projectId, webhookId));
  }
}
