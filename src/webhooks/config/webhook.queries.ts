import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { DeliveryDetailView, DeliveryView } from '../../contract/deliveries.js';
import { EventStore } from '../../event-store/event-store.js';
import { notFound } from '../../shared/errors.js';
import { decodeCursorKey, encodeCursor, type Page } from '../../shared/pagination.js';
import { plainDecimal } from '../../shared/plain-decimal.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { toAttemptView, toDeliveryView, type AttemptRow, type DeliveryRow, type DeliveryStatus } from '../delivery/deliveries.js';
import { ReplayedActivities } from '../replay/replayed-activity.js';
import { configOf, loadHook, projectMustExist, type WebhookRow } from './webhook.projection.js';
import { viewOf, type WebhookView } from './webhook.view.js';

/** Reading webhooks and their deliveries. */

export class ListWebhooksQuery extends Query<WebhookView[]> {
  constructor(readonly projectId: number) {
    super();
  }
}
export class GetWebhookQuery extends Query<WebhookView> {
  constructor(readonly projectId: number, readonly webhookId: number) {
    super();
  }
}
export class ListDeliveriesQuery extends Query<Page<DeliveryView>> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly status: DeliveryStatus | undefined, readonly limit: number, readonly cursor: string | undefined) {
    super();
  }
}
export class GetDeliveryQuery extends Query<DeliveryDetailView> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly deliveryId: string) {
    super();
  }
}

@QueryHandler(ListWebhooksQuery)
export class ListWebhooksHandler implements IQueryHandler<ListWebhooksQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId }: ListWebhooksQuery) {
    await projectMustExist(this.store, projectId);
    const rows = await this.store.query<WebhookRow>(`SELECT * FROM rm_webhooks WHERE project_id = ? ORDER BY id`, [projectId]);
    return Promise.all(rows.map((row) => viewOf(this.store, configOf(row))));
  }
}

@QueryHandler(GetWebhookQuery)
export class GetWebhookHandler implements IQueryHandler<GetWebhookQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId, webhookId }: GetWebhookQuery) {
    return viewOf(this.store, await loadHook(this.store, projectId, webhookId));
  }
}

/** The URL in clear: only for the webhook's managers, asking explicitly. */
export class RevealWebhookUrlQuery extends Query<{ url: string }> {
  constructor(readonly projectId: number, readonly webhookId: number) {
    super();
  }
}

@QueryHandler(RevealWebhookUrlQuery)
export class RevealWebhookUrlHandler implements IQueryHandler<RevealWebhookUrlQuery> {
  constructor(private readonly store: EventStore, @Inject(SECRET_BOX) private readonly box: SecretBox) {}
  async execute({ projectId, webhookId }: RevealWebhookUrlQuery) {
    return { url: this.box.open((await loadHook(this.store, projectId, webhookId)).url) };
  }
}

/** A webhook's deliveries, newest first: the cursor is the last one's (created_at, id). */
const encodeDeliveryCursor = (webhookId: number, row: DeliveryRow) => encodeCursor(String(webhookId), row.created_at, row.id);

function decodeDeliveryCursor(webhookId: number, cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [createdAt, id] = decodeCursorKey(String(webhookId), cursor, ([createdAt, id]) => plainDecimal(createdAt) !== undefined && !!id);
  return { createdAt: plainDecimal(createdAt)!, id };
}

@QueryHandler(ListDeliveriesQuery)
export class ListDeliveriesHandler implements IQueryHandler<ListDeliveriesQuery> {
  constructor(
    private readonly store: EventStore,
    private readonly replayed: ReplayedActivities,
  ) {}
  async execute({ projectId, webhookId, status, limit, cursor }: ListDeliveriesQuery): Promise<Page<DeliveryView>> {
    await loadHook(this.store, projectId, webhookId);
    const after = decodeDeliveryCursor(webhookId, cursor);
    const conditions = ['webhook_id = ?'];
    const params: unknown[] = [webhookId];
    if (status) {
      conditions.push('status = ?');
      params.push(status);
    }
    if (after) {
      conditions.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after.createdAt, after.createdAt, after.id);
    }
    // newest first
    const rows = await this.store.query<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE ${conditions.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`, [...params, limit + 1]);
    const items = rows.slice(0, limit);
    // a replay's deliveries store no activity: their titles come from their events
    await this.replayed.fillForLog(items);
    return { items: items.map(toDeliveryView), nextCursor: rows.length > limit ? encodeDeliveryCursor(webhookId, items[items.length - 1]) : null };
  }
}

@QueryHandler(GetDeliveryQuery)
export class GetDeliveryHandler implements IQueryHandler<GetDeliveryQuery> {
  constructor(
    private readonly store: EventStore,
    private readonly replayed: ReplayedActivities,
  ) {}
  async execute({ projectId, webhookId, deliveryId }: GetDeliveryQuery): Promise<DeliveryDetailView> {
    await loadHook(this.store, projectId, webhookId);
    const row = await this.store.queryOne<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, [deliveryId, webhookId]);
    if (!row) throw notFound('delivery', deliveryId);
    await this.replayed.fillForLog([row]);
    // with its position: on PostgreSQL only the partition of its range is read
    const attempts = await this.store.query<AttemptRow>(`SELECT * FROM webhook_delivery_attempts WHERE delivery_id = ? AND event_position = ? ORDER BY number`, [deliveryId, row.event_position]);
    // a chat webhook's coalesced message: the other events it carries
    const carried = await this.store.query<{ id: string; event_position: number }>(`SELECT id, event_position FROM webhook_deliveries WHERE carried_by = ? ORDER BY event_position`, [deliveryId]);
    return { ...toDeliveryView(row), carries: carried.map((c) => ({ id: c.id, eventPosition: Number(c.event_position) })), attempts: attempts.map(toAttemptView) };
  }
}
