import { Module } from '@nestjs/common';
import { ConsoleAssets } from './console-assets.js';
import { ConsoleController } from './console.controller.js';
import { DeliveryStatsController } from './delivery-stats.controller.js';
import { HourlyDeliveriesHandler } from './delivery-stats.js';

/** The delivery console: its page and files at /console, and the read it needs beyond the webhook API. */
@Module({
  controllers: [ConsoleController, DeliveryStatsController],
  providers: [ConsoleAssets, HourlyDeliveriesHandler],
})
export class ConsoleModule {}
