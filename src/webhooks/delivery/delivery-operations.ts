import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { RecoverResult } from '../../contract/deliveries.js';
import type { TestResult } from '../../contract/webhooks.js';
import { EventStore } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { conflict, notFound } from '../../shared/errors.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { testActivity } from '../activity-mapping.js';
import { loadHook } from '../config/webhook.projection.js';
import { isTestMessage, ofAnEvent, type DeliveryRow } from './deliveries.js';
import { TestMessage } from './test-message.js';

/** What a webhook's managers do with its deliveries: send a test message, redeliver one, recover the failed ones. */

export class TestWebhookCommand extends Command<TestResult> {
  constructor(readonly projectId: number, readonly webhookId: number) {
    super();
  }
}
export class RedeliverCommand extends Command<void> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly deliveryId: string) {
    super();
  }
}
export class RecoverCommand extends Command<RecoverResult> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly since: Date) {
    super();
  }
}

@CommandHandler(TestWebhookCommand)
export class TestWebhookHandler implements ICommandHandler<TestWebhookCommand> {
  constructor(
    private readonly store: EventStore,
    private readonly testMessage: TestMessage,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}
  async execute({ projectId, webhookId }: TestWebhookCommand): Promise<TestResult> {
    const hook = await loadHook(this.store, projectId, webhookId);
    const project = (await this.store.queryOne<{ id: number; name: string }>(`SELECT id, name FROM rm_projects WHERE id = ?`, [projectId]))!;
    const bot = { id: SYSTEM_BOT_ID, name: this.config.brand, email: this.config.botEmail };
    const activity = testActivity(hook.name, project, { brand: this.config.brand, externalUrl: this.config.externalUrl, bot, now: this.clock.now() });
    return this.testMessage.send(hook, activity);
  }
}

@CommandHandler(RedeliverCommand)
export class RedeliverHandler implements ICommandHandler<RedeliverCommand> {
  constructor(private readonly store: EventStore, @Inject(CLOCK) private readonly clock: Clock) {}
  async execute({ projectId, webhookId, deliveryId }: RedeliverCommand): Promise<void> {
    await loadHook(this.store, projectId, webhookId);
    const now = this.clock.now().getTime();
    await this.store.transact(async (tx) => {
      const row = await tx.get<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, [deliveryId, webhookId]);
      if (!row) throw notFound('delivery', deliveryId);
      if (row.status === 'DELIVERING') throw conflict(`delivery ${deliveryId} is being attempted right now`);
      if (isTestMessage(row)) throw conflict(`delivery ${deliveryId} is a test message: send a new test instead`);
      // a new attempt with the same delivery id; the retry schedule starts over
      await tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ?, retry_base = attempt_count, updated_at = ? WHERE id = ? AND event_position = ?`,
          params: [now, now, deliveryId, row.event_position],
        },
      ]);
      // whichever instance is free takes it
      tx.signal('deliveries');
    });
  }
}

@CommandHandler(RecoverCommand)
export class RecoverHandler implements ICommandHandler<RecoverCommand> {
  constructor(private readonly store: EventStore, @Inject(CLOCK) private readonly clock: Clock) {}
  async execute({ projectId, webhookId, since }: RecoverCommand): Promise<RecoverResult> {
    await loadHook(this.store, projectId, webhookId);
    const now = this.clock.now().getTime();
    const requeued = await this.store.transact(async (tx) => {
      const { n } = (await tx.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? AND status IN ('FAILED', 'SKIPPED') AND created_at >= ? AND ${ofAnEvent()}`,
        [webhookId, since.getTime()],
      ))!;
      await tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ?, retry_base = attempt_count, updated_at = ?
                WHERE webhook_id = ? AND status IN ('FAILED', 'SKIPPED') AND created_at >= ? AND ${ofAnEvent()}`,
          params: [now, now, webhookId, since.getTime()],
        },
      ]);
      if (Number(n) > 0) tx.signal('deliveries');
      return Number(n);
    });
    return { requeued };
  }
}

