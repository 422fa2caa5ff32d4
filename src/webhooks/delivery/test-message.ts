import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { TestResult } from '../../contract/webhooks.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import type { Activity } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import { AttemptMaker } from './attempt.js';
import { DeliveryQueue } from './queue.js';
import { DeliveryRecorder } from './recorder.js';
import { SharedPace } from './shared-pace.js';

/**
 * The test message: one synchronous attempt, past pace and holds, recorded like any
 * delivery (a delivery of no event) and never retried. A success re-enables a disabled
 * webhook; a failure does not count against its health. The receiver counts it all the
 * same: so does its pace, and a throttle in the answer holds the deliveries.
 */
@Injectable()
export class TestMessage {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly queue: DeliveryQueue,
    private readonly attempts: AttemptMaker,
    private readonly recorder: DeliveryRecorder,
    private readonly pace: SharedPace,
  ) {}

  async send(hook: WebhookConfig, activity: Activity): Promise<TestResult> {
    const id = `msg_${randomUUID().replace(/-/g, '')}`;
    const delivery = await this.queue.insertTest(id, hook.id, hook.projectId, activity, this.clock.now().getTime());
    const paced = this.pace.of(hook);
    await this.pace.note(paced, this.clock.now().getTime());
    const attempt = await this.attempts.make(hook, activity, id);
    if (attempt.throttle) await this.pace.throttle(paced, attempt.throttle, { webhookId: hook.id, waiting: [] }, this.clock.now().getTime());
    const recorded = this.recorder.record({ delivery, hook, attempt, test: true });
    this.recorder.hurry();
    await recorded;
    const { response, verdict } = attempt;
    return {
      delivered: verdict.kind === 'delivered',
      ...(response?.kind === 'response' ? { statusCode: response.status } : {}),
      durationMs: Math.round(attempt.durationMs),
      ...(verdict.kind !== 'delivered' ? { error: verdict.reason } : {}),
    };
  }
}
