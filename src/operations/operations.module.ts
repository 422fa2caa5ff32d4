import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { StoreMetrics } from './store-metrics.js';

/**
 * Health and metrics: above the features, which register their own readiness checks
 * (Readiness) and gauges (Metrics); this module adds storage's and the log's and serves them.
 */
@Module({
  // a failing readiness check is the asker's answer, not a log line per ask (load balancers ask every few seconds);
  // storage outages are logged once by StorageHealth
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [StoreMetrics],
})
export class OperationsModule {}
