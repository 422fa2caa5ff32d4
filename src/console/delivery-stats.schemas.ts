import { ApiProperty } from '@nestjs/swagger';
import type { HourCount, HourlyDeliveries } from '../contract/deliveries.js';

/** The hourly counts as documented in OpenAPI (`implements` keeps them in step with the query's result). */
export class HourCountSchema implements HourCount {
  @ApiProperty({ format: 'date-time', description: 'The hour’s start (UTC).' }) start: string;
  @ApiProperty({ description: 'Deliveries created in this hour that are DELIVERED now.' }) delivered: number;
  @ApiProperty({ description: '… that are FAILED now.' }) failed: number;
  @ApiProperty({ description: '… that are SKIPPED now (their webhook was disabled).' }) skipped: number;
  @ApiProperty({ description: '… that are not final yet (PENDING, DELIVERING, RETRYING, HELD).' }) pending: number;
}

export class HourlyDeliveriesSchema implements HourlyDeliveries {
  @ApiProperty() webhookId: number;
  @ApiProperty({ format: 'date-time', description: 'The first hour’s start: the current hour and the 23 before it are counted.' }) from: string;
  @ApiProperty({ format: 'date-time', description: 'When the counts were taken.' }) to: string;
  @ApiProperty({ type: [HourCountSchema], description: '24 entries, oldest first, empty hours included.' }) hours: HourCountSchema[];
}
