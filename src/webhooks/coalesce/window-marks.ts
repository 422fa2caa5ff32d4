import { Injectable } from '@nestjs/common';
import { EventStore } from '../../event-store/event-store.js';
import { NOT_DURABLE } from '../delivery/queue.js';

/**
 * When each coalescing webhook's last message went, in the database (webhook_windows): a
 * restart keeps the window, and instances sharing a PostgreSQL database see one another's
 * messages. Bookkeeping like the deliveries' (not durable: a power cut may lose a mark, and
 * the next message then goes at once, as the first after a quiet window does).
 */
@Injectable()
export class WindowMarks {
  constructor(private readonly store: EventStore) {}

  async lastSentAt(webhookId: number): Promise<number | undefined> {
    const row = await this.store.queryOne<{ last_sent_at: number | string }>(`SELECT last_sent_at FROM webhook_windows WHERE webhook_id = ?`, [webhookId]);
    return row ? Number(row.last_sent_at) : undefined;
  }

  async markSent(webhookId: number, at: number): Promise<void> {
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `INSERT INTO webhook_windows (webhook_id, last_sent_at) VALUES (?, ?)
                  ON CONFLICT (webhook_id) DO UPDATE SET last_sent_at = CASE WHEN excluded.last_sent_at > webhook_windows.last_sent_at THEN excluded.last_sent_at ELSE webhook_windows.last_sent_at END`,
            params: [webhookId, at],
          },
        ]),
      NOT_DURABLE,
    );
  }
}
