import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import type { Activity } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { DeliveryRow } from '../delivery/deliveries.js';
import { DeliveryQueue } from '../delivery/queue.js';
import { providerFor } from '../providers/registry.js';
import { digestActivity } from './digest.js';
import { windowGate, windowMs } from './window.js';
import { WindowMarks } from './window-marks.js';

/** Deliveries of a coalescing webhook one claim may take: a window's worth goes as one message. */
export const COALESCE_CLAIM = 500;

/** A stored digest carries the number of activities it holds (and is never merged again). */
type StoredActivity = (Activity & { coalesced?: number }) | { unmapped: string };

/**
 * Applies a chat webhook's coalescing window to a claimed batch (in event order): inside
 * the window everything waits for its end; otherwise the deliveries never attempted go as
 * one message, carried by the first of them (its stored activity becomes the digest, so
 * retries and redeliveries send the same message) and the others are COALESCED into it.
 * When the last message went is kept in the database (WindowMarks), so a restart keeps the window.
 */
@Injectable()
export class Coalescer {
  constructor(
    private readonly queue: DeliveryQueue,
    private readonly marks: WindowMarks,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  /** Whether the webhook's claims take a window's worth. */
  coalesces(hook: WebhookConfig | undefined): boolean {
    return hook !== undefined && windowMs(hook) > 0;
  }

  /** The deliveries to attempt now (none while the window lasts: they wait for its end). */
  async gather(hook: WebhookConfig, batch: DeliveryRow[], now: number): Promise<DeliveryRow[]> {
    const window = windowMs(hook);
    if (window === 0 || batch.length === 0) return batch;
    const gate = windowGate(await this.marks.lastSentAt(hook.id), now, window);
    if (gate.kind === 'wait') {
      await this.queue.settle(
        batch,
        'WAITING',
        null,
        gate.until,
        now,
      );
      return [];
    }
    await this.marks.markSent(hook.id, now);
    // a direct message goes to its one person, never inside a digest
    const fresh = batch
      .map((delivery) => ({ delivery, activity: JSON.parse(delivery.activity) as StoredActivity }))
      .filter((d): d is { delivery: DeliveryRow; activity: Activity } => d.delivery.attempt_count === 0 && !('unmapped' in d.activity) && d.activity.coalesced === undefined && d.activity.directMessage === undefined);
    if (fresh.length < 2) return batch;
    const [lead, ...carried] = fresh;
    const digest = digestActivity(
      fresh.map((d) => d.activity),
      { brand: this.config.brand, externalUrl: this.config.externalUrl, bot: { id: SYSTEM_BOT_ID, name: this.config.brand, email: this.config.botEmail }, provider: providerFor(hook.type) },
    );
    const json = JSON.stringify({ ...digest, coalesced: fresh.length });
    const carriedIds = new Set(carried.map((d) => d.delivery.id));
    await this.queue.coalesce(lead.delivery, json, carried.map((d) => d.delivery), now);
    lead.delivery.activity = json;
    return batch.filter((d) => !carriedIds.has(d.id));
  }
}
