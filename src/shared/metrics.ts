import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics, on a registry of this app's own (so several apps in one process
 * keep theirs apart). The counters here are the ones several layers feed; gauges about
 * state are registered by the layer that knows the state (operations/ the log and storage,
 * webhooks/ the subscription, the queue and webhook health) and read when scraped.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'herald_webhook_deliveries_total',
    help: 'Webhook deliveries that reached a final status, by provider and status',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'herald_webhook_attempt_duration_seconds',
    help: 'Webhook attempt duration, by provider and verdict',
    labelNames: ['provider', 'verdict'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }
}
