import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * webhook_deliveries.traceparent and .tracestate: the W3C trace context of the span that
 * scheduled the delivery (NULL when it was made outside any trace: tracing off, a replay, an
 * event appended without one). Its attempts are spans of that trace, after any restart and on
 * any instance. Kept on the row rather than read from the event's metadata: the claim returns
 * it with the row (no extra read per attempt), and it names the delivery's own span, not only
 * the append's.
 */
export class DeliveryTraceContext1765100000000 implements MigrationInterface {
  name = 'DeliveryTraceContext1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN tracestate TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN tracestate`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN traceparent`);
  }
}
