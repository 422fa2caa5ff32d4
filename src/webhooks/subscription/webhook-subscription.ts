import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { SqliteEventStore } from '../../event-store/sqlite-event-store.js';
import { LogEventsRead, SUBSCRIPTION_NAME } from './schedule-deliveries.js';

/**
 * The checkpointed subscription over the global log that feeds webhooks. It hands the
 * next slice to the EventBus only after the previous slice's scheduling transaction
 * committed (it awaits it), so the checkpoint never passes an unprocessed event. Woken
 * right after each commit; polls as a fallback.
 */
@Injectable()
export class WebhookSubscription implements OnApplicationBootstrap, OnModuleDestroy {
  private static readonly SLICE = 500;
  private static readonly POLL_MS = 1000;
  private readonly logger = new Logger('WebhookSubscription');
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: SqliteEventStore,
    private readonly eventBus: EventBus,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.background) return;
    this.unsubscribe = this.store.onCommit(() => this.wake());
    this.timer = setInterval(() => this.wake(), WebhookSubscription.POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  checkpoint(): number {
    return this.store.queryOne<{ position: number }>(`SELECT position FROM subscription_checkpoints WHERE name = ?`, [SUBSCRIPTION_NAME])?.position ?? 0;
  }

  /** Runs a catch-up now (coalescing concurrent wake-ups). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((error) => {
        this.logger.error({ err: error }, 'webhook subscription failed; retrying from its checkpoint');
        return 0;
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.wake());
        }
      });
  }

  /** Processes every event after the checkpoint; resolves with how many. Tests call it directly. */
  async catchUp(): Promise<number> {
    let processed = 0;
    for (;;) {
      if (this.stopped) return processed;
      const events = this.store.readAll(this.checkpoint(), WebhookSubscription.SLICE);
      if (events.length === 0) return processed;
      await new Promise<void>((resolve, reject) => this.eventBus.publish(new LogEventsRead(SUBSCRIPTION_NAME, events, { resolve, reject })));
      processed += events.length;
    }
  }
}
