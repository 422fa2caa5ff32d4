import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore, Metadata } from '../../event-store/aggregate-store.js';
import { PROJECTS } from '../../event-store/event-store.module.js';
import { EventStore } from '../../event-store/event-store.js';
import type { ProjectState } from '../../projects/project.decider.js';
import type { ProjectEvent } from '../../projects/project.events.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { conflict, invalid, notFound, type FieldError } from '../../shared/errors.js';
import { SYSTEM_BOT_ID } from '../../users/user.aggregate.js';
import { testActivity } from '../activity-mapping.js';
import { normalizeActivityType } from '../activity.js';
import { toAttemptView, toDeliveryView, type AttemptRow, type DeliveryRow, type DeliveryStatus } from '../delivery/deliveries.js';
import { TestMessage, type AttemptResult } from '../delivery/test-message.js';
import { normalizeWebhookType, providerFor, WEBHOOK_TYPES, type WebhookType } from '../providers/registry.js';
import { decideWebhook, type WebhookConfig } from './webhook.decider.js';
import type { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto.js';
import { configOf, type WebhookRow } from './webhook.projection.js';
import { toWebhookView, type WebhookView } from './webhook.view.js';
import { checkCustomHeaders, checkSigningSecret, checkWebhookUrl } from './url-rules.js';
import { maskUrl } from './url-mask.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { checkCoalesce } from '../coalesce/window.js';
import { checkFilter } from '../filters/filter.js';

type Projects = AggregateStore<ProjectState, ProjectEvent>;

export class CreateWebhookCommand extends Command<WebhookView> {
  constructor(readonly projectId: number, readonly input: CreateWebhookDto, readonly metadata: Metadata) {
    super();
  }
}
export class UpdateWebhookCommand extends Command<WebhookView> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly input: UpdateWebhookDto, readonly metadata: Metadata) {
    super();
  }
}
export class DeleteWebhookCommand extends Command<void> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly metadata: Metadata) {
    super();
  }
}
export class TestWebhookCommand extends Command<AttemptResult> {
  constructor(readonly projectId: number, readonly webhookId: number) {
    super();
  }
}
export class RedeliverCommand extends Command<void> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly deliveryId: string) {
    super();
  }
}
export class RecoverCommand extends Command<{ requeued: number }> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly since: Date) {
    super();
  }
}

async function viewOf(store: EventStore, hook: WebhookConfig): Promise<WebhookView> {
  const failures = await store.queryOne<{ consecutive: number; last_error: string | null }>(`SELECT consecutive, last_error FROM webhook_failures WHERE webhook_id = ?`, [hook.id]);
  const view = toWebhookView(hook, failures?.consecutive ?? 0);
  return { ...view, lastError: hook.health.lastError ?? failures?.last_error ?? null };
}

async function loadHook(store: EventStore, projectId: number, webhookId: number): Promise<WebhookConfig> {
  const row = await store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ? AND project_id = ?`, [webhookId, projectId]);
  if (!row) throw notFound('webhook', webhookId);
  return configOf(row);
}

async function projectMustExist(store: EventStore, projectId: number): Promise<void> {
  if (!(await store.queryOne(`SELECT 1 FROM rm_projects WHERE id = ?`, [projectId]))) throw notFound('project', projectId);
}

/** The rules a webhook's URL, signing secret and headers must meet for its type (400 naming each field). */
function assertSettings(
  type: WebhookType,
  input: { url?: string; signingSecret?: string | null; headers?: Record<string, string>; filter?: string | null; coalesce?: { windowSeconds: number } },
  config: HeraldConfig,
): void {
  const provider = providerFor(type);
  const errors: FieldError[] = [
    ...checkFilter(input.filter),
    ...checkCoalesce(type, input.coalesce),
    ...(input.url !== undefined ? checkWebhookUrl(input.url, provider, config.webhooks) : []),
    ...(typeof input.signingSecret === 'string' ? checkSigningSecret(provider, input.signingSecret) : []),
    ...(input.headers !== undefined ? (provider.customHeaders ? checkCustomHeaders(input.headers) : [{ field: 'headers', message: `${type} webhooks take no custom headers` }]) : []),
  ];
  if (errors.length > 0) throw invalid(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}

/** The credentials of a webhook, sealed for storage (and the URL's masked form and digest). */
function sealUrl(box: SecretBox, url: string, type: WebhookType) {
  return { url: box.seal(url), urlMasked: maskUrl(url, type), urlDigest: box.digest(url) };
}

function sealHeaders(box: SecretBox, headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, box.seal(value)]));
}

@CommandHandler(CreateWebhookCommand)
export class CreateWebhookHandler implements ICommandHandler<CreateWebhookCommand> {
  constructor(
    @Inject(PROJECTS) private readonly projects: Projects,
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ projectId, input, metadata }: CreateWebhookCommand): Promise<WebhookView> {
    await projectMustExist(this.store, projectId);
    const type = normalizeWebhookType(input.type);
    if (!type) throw invalid(`unknown webhook type ${input.type}`, [{ field: 'type', message: `must be one of ${WEBHOOK_TYPES.join(', ')}` }]);
    assertSettings(type, input, this.config);
    let webhookId = 0;
    const { state } = await this.projects.update(projectId, { metadata, ids: { webhook: 1 } }, (s, { ids }) => {
      webhookId = ids.webhook[0];
      return decideWebhook(
        {
          kind: 'CreateWebhook',
          webhookId,
          type,
          name: input.name,
          ...sealUrl(this.box, input.url, type),
          activityTypes: [...new Set(input.activityTypes.map(normalizeActivityType))],
          active: input.active ?? true,
          signingSecret: input.signingSecret ? this.box.seal(input.signingSecret) : null,
          previousSigningSecret: null,
          headers: sealHeaders(this.box, input.headers ?? {}),
          ordered: input.ordered ?? false,
          ...(input.filter ? { filter: input.filter } : {}),
          ...(input.coalesce ? { coalesce: { windowSeconds: input.coalesce.windowSeconds } } : {}),
        },
        s.id,
        s.webhooks,
      );
    });
    return viewOf(this.store, state.webhooks[webhookId]);
  }
}

@CommandHandler(UpdateWebhookCommand)
export class UpdateWebhookHandler implements ICommandHandler<UpdateWebhookCommand> {
  constructor(
    @Inject(PROJECTS) private readonly projects: Projects,
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ projectId, webhookId, input, metadata }: UpdateWebhookCommand): Promise<WebhookView> {
    const hook = await loadHook(this.store, projectId, webhookId);
    assertSettings(hook.type, input, this.config);
    const { url, signingSecret, headers, activityTypes, coalesce, ...plain } = input;
    const changes = {
      ...plain,
      ...(coalesce ? { coalesce: { windowSeconds: coalesce.windowSeconds } } : {}),
      ...(activityTypes ? { activityTypes: [...new Set(activityTypes.map(normalizeActivityType))] } : {}),
      ...(url !== undefined ? sealUrl(this.box, url, hook.type) : {}),
      ...(signingSecret !== undefined ? { signingSecret: signingSecret === null ? null : this.box.seal(signingSecret) } : {}),
      ...(headers !== undefined ? { headers: sealHeaders(this.box, headers) } : {}),
    };
    const { state } = await this.projects.update(
      projectId,
      {
        metadata,
        // re-enabling by setting it active again clears the failure count
        also: async (tx) => {
          if (input.active === true) await tx.exec([{ sql: `UPDATE webhook_failures SET consecutive = 0 WHERE webhook_id = ?`, params: [webhookId] }]);
        },
      },
      (s, { now }) => decideWebhook({ kind: 'UpdateWebhook', webhookId, changes, now }, s.id, s.webhooks),
    );
    return viewOf(this.store, state.webhooks[webhookId]);
  }
}

@CommandHandler(DeleteWebhookCommand)
export class DeleteWebhookHandler implements ICommandHandler<DeleteWebhookCommand> {
  constructor(@Inject(PROJECTS) private readonly projects: Projects, private readonly store: EventStore) {}
  async execute({ projectId, webhookId, metadata }: DeleteWebhookCommand): Promise<void> {
    await loadHook(this.store, projectId, webhookId);
    await this.projects.update(projectId, { metadata }, (s) => decideWebhook({ kind: 'DeleteWebhook', webhookId }, s.id, s.webhooks));
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
  async execute({ projectId, webhookId }: TestWebhookCommand): Promise<AttemptResult> {
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
      if (row.event_position === null) throw conflict(`delivery ${deliveryId} is a test message: send a new test instead`);
      // a new attempt with the same delivery id; the retry schedule starts over
      await tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ?, retry_base = attempt_count, updated_at = ? WHERE id = ?`,
          params: [now, now, deliveryId],
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
  async execute({ projectId, webhookId, since }: RecoverCommand): Promise<{ requeued: number }> {
    await loadHook(this.store, projectId, webhookId);
    const now = this.clock.now().getTime();
    const requeued = await this.store.transact(async (tx) => {
      const { n } = (await tx.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? AND status IN ('FAILED', 'SKIPPED') AND created_at >= ? AND event_position IS NOT NULL`,
        [webhookId, since.getTime()],
      ))!;
      await tx.exec([
        {
          sql: `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ?, retry_base = attempt_count, updated_at = ?
                WHERE webhook_id = ? AND status IN ('FAILED', 'SKIPPED') AND created_at >= ? AND event_position IS NOT NULL`,
          params: [now, now, webhookId, since.getTime()],
        },
      ]);
      if (Number(n) > 0) tx.signal('deliveries');
      return Number(n);
    });
    return { requeued };
  }
}

/** Key rotation: every webhook whose credentials are sealed under an older key is sealed again under the current one. */
export class ResealWebhookSecretsCommand extends Command<{ resealed: number; keyId: string }> {
  constructor(readonly metadata: Metadata) {
    super();
  }
}

@CommandHandler(ResealWebhookSecretsCommand)
export class ResealWebhookSecretsHandler implements ICommandHandler<ResealWebhookSecretsCommand> {
  constructor(
    @Inject(PROJECTS) private readonly projects: Projects,
    private readonly store: EventStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ metadata }: ResealWebhookSecretsCommand) {
    const box = this.box;
    const reseal = (value: string) => (box.isStale(value) ? box.seal(box.open(value)) : value);
    let resealed = 0;
    const rows = await this.store.query<WebhookRow>(`SELECT * FROM rm_webhooks ORDER BY id`);
    for (const hook of rows.map(configOf)) {
      const values = [hook.url, hook.signingSecret, hook.previousSigningSecret?.secret, ...Object.values(hook.headers)].filter((v): v is string => typeof v === 'string');
      if (!values.some((v) => box.isStale(v)) && hook.urlDigest.startsWith(`h1:${box.currentKeyId}:`)) continue;
      const url = box.open(hook.url);
      await this.projects.update(hook.projectId, { metadata }, (s) =>
        decideWebhook(
          {
            kind: 'ResealSecrets',
            webhookId: hook.id,
            keyId: box.currentKeyId,
            url: reseal(hook.url),
            urlDigest: box.digest(url),
            signingSecret: hook.signingSecret ? reseal(hook.signingSecret) : null,
            previousSigningSecret: hook.previousSigningSecret ? { ...hook.previousSigningSecret, secret: reseal(hook.previousSigningSecret.secret) } : null,
            headers: Object.fromEntries(Object.entries(hook.headers).map(([name, value]) => [name, reseal(value)])),
          },
          s.id,
          s.webhooks,
        ),
      );
      resealed++;
    }
    return { resealed, keyId: box.currentKeyId };
  }
}

// ---------------------------------------------------------------- queries

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
export class ListDeliveriesQuery extends Query<{ items: ReturnType<typeof toDeliveryView>[]; nextCursor: string | null }> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly status: DeliveryStatus | undefined, readonly limit: number, readonly cursor: string | undefined) {
    super();
  }
}
export class GetDeliveryQuery extends Query<ReturnType<typeof toDeliveryView> & { carries: { id: string; eventPosition: number }[]; attempts: ReturnType<typeof toAttemptView>[] }> {
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

const encodeDeliveryCursor = (webhookId: number, row: DeliveryRow) => Buffer.from(`${webhookId}:${row.created_at}:${row.id}`).toString('base64url');

function decodeDeliveryCursor(webhookId: number, cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [scope, createdAt, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (Number(scope) !== webhookId || !Number.isInteger(Number(createdAt)) || !id) {
    throw invalid('the cursor does not belong to this list', [{ field: 'cursor', message: 'must be a nextCursor returned by this list' }]);
  }
  return { createdAt: Number(createdAt), id };
}

@QueryHandler(ListDeliveriesQuery)
export class ListDeliveriesHandler implements IQueryHandler<ListDeliveriesQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId, webhookId, status, limit, cursor }: ListDeliveriesQuery) {
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
    return { items: items.map(toDeliveryView), nextCursor: rows.length > limit ? encodeDeliveryCursor(webhookId, items[items.length - 1]) : null };
  }
}

@QueryHandler(GetDeliveryQuery)
export class GetDeliveryHandler implements IQueryHandler<GetDeliveryQuery> {
  constructor(private readonly store: EventStore) {}
  async execute({ projectId, webhookId, deliveryId }: GetDeliveryQuery) {
    await loadHook(this.store, projectId, webhookId);
    const row = await this.store.queryOne<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ?`, [deliveryId, webhookId]);
    if (!row) throw notFound('delivery', deliveryId);
    const attempts = await this.store.query<AttemptRow>(`SELECT * FROM webhook_delivery_attempts WHERE delivery_id = ? ORDER BY number`, [deliveryId]);
    // a chat webhook's coalesced message: the other events it carries
    const carried = await this.store.query<{ id: string; event_position: number }>(`SELECT id, event_position FROM webhook_deliveries WHERE carried_by = ? ORDER BY event_position`, [deliveryId]);
    return { ...toDeliveryView(row), carries: carried.map((c) => ({ id: c.id, eventPosition: Number(c.event_position) })), attempts: attempts.map(toAttemptView) };
  }
}
