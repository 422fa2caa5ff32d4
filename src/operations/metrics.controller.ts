import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Metrics } from '../shared/metrics.js';
import { Public } from '../shared/route-access.js';

@ApiTags('operations')
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiOkResponse({ description: 'HTTP, event, subscription, delivery and process metrics.', content: { 'text/plain': { schema: { type: 'string' } } } })
  scrape() {
    return this.metrics.registry.metrics();
  }
}
