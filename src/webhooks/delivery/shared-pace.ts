import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventStore } from '../../event-store/event-store.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { Attempt } from './attempt.js';
import type { DeliveryRow } from './deliveries.js';
import type { RateLimit, Throttle } from '../providers/provider.js';
import { providerFor } from '../providers/registry.js';
import { type PaceKeys, STAMP_DIGITS, nextSlot, paceKeys, recordLength, sendsOf, stamp, windowMs } from './pace.js';
import { DeliveryQueue, NOT_DURABLE, type Claimed } from './queue.js';

/** What a webhook's messages are paced by: its pace rows and its provider's limits. */
export interface Paced {
  keys: PaceKeys;
  limits: readonly RateLimit[];
}

const SENT = 'webhook_pace.sent';
/** The newest send of the record (it is not empty). */
const NEWEST = `substr(${SENT}, length(${SENT}) - ${STAMP_DIGITS - 1})`;

/**
 * The record with one more send, `excluded.sent` (one stamp), kept to its length: never before
 * the newest send in it (instances' clocks differ a little, and the record stays in order).
 */
function appended(limits: readonly RateLimit[]): string {
  const length = recordLength(limits) * STAMP_DIGITS;
  const kept = `CASE WHEN length(${SENT}) >= ${length} THEN substr(${SENT}, length(${SENT}) - ${length - STAMP_DIGITS - 1}) ELSE ${SENT} END`;
  const send = `CASE WHEN ${SENT} = '' THEN excluded.sent WHEN CAST(${NEWEST} AS BIGINT) > CAST(excluded.sent AS BIGINT) THEN ${NEWEST} ELSE excluded.sent END`;
  return `${kept} || ${send}`;
}

/** Whether a limit has room at `excluded.updated_at` (now): the send `count` back from the newest has left its window. */
function room(limit: RateLimit): string {
  const back = limit.count * STAMP_DIGITS;
  const nth = `CAST(substr(${SENT}, length(${SENT}) - ${back - 1}, ${STAMP_DIGITS}) AS BIGINT)`;
  // CASE, not OR: PostgreSQL may evaluate either side of an OR first, and a short record has no such send
  return `(CASE WHEN length(${SENT}) < ${back} THEN 1 WHEN ${nth} <= excluded.updated_at - ${windowMs(limit)} THEN 1 ELSE 0 END) = 1`;
}

/**
 * The receivers' pace, shared by every instance on the database (webhook_pace): a receiver's
 * record of its latest sends and its block, one row each (see pace.ts), and one row per provider
 * for a block of the sender as a whole. A message to a receiver with limits takes its slot in one
 * statement, an upsert whose condition PostgreSQL checks on the row's latest version under its
 * lock, so instances sending at once never pass a limit together; a throttle (a 429, a
 * provider's code) is written at once and holds every webhook sharing the receiver, on every
 * instance, across restarts. Webhooks without limits (Custom) take nothing per message: the
 * claim reads their block with their deliveries (DeliveryQueue.claim).
 * Bookkeeping like the deliveries' (not durable: a power cut may lose the latest sends).
 */
@Injectable()
export class SharedPace {
  private readonly logger = new Logger('SharedPace');
  /** Per webhook configuration (a change makes a new object): its URL is opened once, here and in AttemptMaker only. */
  private readonly paced = new WeakMap<WebhookConfig, Paced>();

  constructor(
    private readonly store: EventStore,
    private readonly queue: DeliveryQueue,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  of(hook: WebhookConfig): Paced {
    let paced = this.paced.get(hook);
    if (!paced) {
      const provider = providerFor(hook.type);
      paced = { keys: paceKeys(provider, this.box.open(hook.url)), limits: provider.pace.limits };
      this.paced.set(hook, paced);
    }
    return paced;
  }

  /**
   * A direct message's pace: its IM app's API (per project and vendor), which is not the channel's
   * receiver. No limits kept ahead of time: only the vendor's throttles (a 429, a rate-limit code).
   */
  ofImApp(hook: Pick<WebhookConfig, 'type' | 'projectId'>): Paced {
    return { keys: { receiver: `im-app:${hook.type}:${hook.projectId}`, provider: `im-app:${hook.type}` }, limits: [] };
  }

  /** When a message to these rows may go: now, or the end of their block. */
  async blockedUntil({ keys }: Paced, now: number): Promise<number> {
    const row = await this.store.query<{ until: number | string | null }>(`SELECT MAX(blocked_until) AS until FROM webhook_pace WHERE key IN (?, ?)`, [keys.receiver, keys.provider]);
    return Math.max(now, Number(row[0]?.until ?? 0));
  }

  /** Takes a slot for one message sent now: `now` when it may go (and is counted), else when its slot comes. */
  async take({ keys, limits }: Paced, now: number): Promise<number> {
    if (limits.length === 0) return now;
    const taken = await this.store.transact(
      (tx) =>
        tx.get<{ key: string }>(
          `INSERT INTO webhook_pace (key, sent, blocked_until, updated_at)
           SELECT CAST(? AS TEXT), CAST(? AS TEXT), 0, CAST(? AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM webhook_pace p WHERE p.key = ? AND p.blocked_until > ?)
           ON CONFLICT (key) DO UPDATE SET sent = ${appended(limits)}, updated_at = excluded.updated_at
           WHERE webhook_pace.blocked_until <= excluded.updated_at AND ${limits.map(room).join(' AND ')}
           RETURNING key`,
          [keys.receiver, stamp(now), now, keys.provider, now],
        ),
      NOT_DURABLE,
    );
    if (taken) return now;
    const rows = await this.store.query<{ key: string; sent: string; blocked_until: number | string }>(`SELECT key, sent, blocked_until FROM webhook_pace WHERE key IN (?, ?)`, [
      keys.receiver,
      keys.provider,
    ]);
    const blocked = rows.reduce((until, row) => Math.max(until, Number(row.blocked_until)), 0);
    const slot = nextSlot(limits, sendsOf(rows.find((row) => row.key === keys.receiver)?.sent ?? ''), blocked, now);
    // refused, yet free by the time it was read: another instance took the slot meanwhile and it passed; look again soon
    return slot > now ? slot : now + 1;
  }

  /** Counts a message that goes whatever the pace (a test message). */
  async note({ keys, limits }: Paced, now: number): Promise<void> {
    if (limits.length === 0) return;
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `INSERT INTO webhook_pace (key, sent, blocked_until, updated_at) VALUES (?, ?, 0, ?)
                  ON CONFLICT (key) DO UPDATE SET sent = ${appended(limits)}, updated_at = excluded.updated_at`,
            params: [keys.receiver, stamp(now), now],
          },
        ]),
      NOT_DURABLE,
    );
  }

  /** Deliveries claimed while their receiver is blocked (DeliveryQueue.claim read it): they wait for its end; true when they do. */
  async holdBack(claimed: DeliveryRow[], now: number): Promise<boolean> {
    const until = Number(claimed[0]?.paced_until ?? 0);
    if (until <= now) return false;
    await this.queue.settle(claimed, 'WAITING', null, until, now);
    return true;
  }

  /**
   * An attempt's throttle: the rest of its batch waits with every other webhook sharing the
   * receiver; a throttle of the IM app's API (a direct message's) holds the batch's other DMs,
   * and the channel's messages claimed with them go back to the queue to go on.
   */
  async throttleAfter(hook: WebhookConfig, { throttle, via }: Pick<Attempt, 'throttle' | 'via'>, rest: DeliveryRow[], now: number): Promise<void> {
    if (!throttle) return;
    if (via !== 'im-app') return this.throttle(this.of(hook), throttle, { webhookId: hook.id, waiting: rest }, now);
    await this.throttle(this.ofImApp(hook), throttle, { webhookId: hook.id, waiting: rest.filter((d) => d.recipient_id != null) }, now);
    await this.queue.release(rest.filter((d) => d.recipient_id == null));
  }

  /**
   * What the receiver said: nothing more goes to it (or, for a provider's throttle, to any webhook
   * of the provider) before `until`, from any instance; `waiting`, claimed here, waits for it too.
   */
  async throttle({ keys }: Paced, throttle: Throttle, from: { webhookId: number; waiting: readonly Claimed[] }, now: number): Promise<void> {
    const key = throttle.scope === 'provider' ? keys.provider : keys.receiver;
    const until = throttle.until.getTime();
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `INSERT INTO webhook_pace (key, sent, blocked_until, updated_at) VALUES (?, '', ?, ?)
                  ON CONFLICT (key) DO UPDATE SET blocked_until = CASE WHEN excluded.blocked_until > webhook_pace.blocked_until THEN excluded.blocked_until ELSE webhook_pace.blocked_until END,
                    updated_at = excluded.updated_at`,
            params: [key, until, now],
          },
        ]),
      NOT_DURABLE,
    );
    await this.queue.settle(from.waiting, 'WAITING', null, until, now);
    // the attempt's own outcome is logged by AttemptMaker; this says whom it holds (Discord's spent buckets are routine)
    this.logger.log(
      { webhookId: from.webhookId, scope: throttle.scope, until: throttle.until.toISOString(), reason: throttle.reason },
      throttle.scope === 'provider' ? 'the provider throttles this sender: its webhooks wait' : 'the receiver throttles: the webhooks sharing it wait',
    );
  }
}
