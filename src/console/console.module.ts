import { Module } from '@nestjs/common';
import { DeliveryStatsController } from './delivery-stats.controller.js';
import { HourlyDeliveriesHandler } from './delivery-stats.js';

/** The delivery console: the reads it needs beyond the webhook API. */
@Module({
  controllers: [DeliveryStatsController],
  providers: [HourlyDeliveriesHandler],
})
export class ConsoleModule {}
