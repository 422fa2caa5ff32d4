import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore, Metadata } from '../../event-store/aggregate-store.js';
import { EventStore } from '../../event-store/event-store.js';
import { invalid, type FieldError } from '../../shared/errors.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { checkCoalesce } from '../coalesce/window.js';
import { checkFilter } from '../filters/filter.js';
import { normalizeActivityType } from '../activity.js';
import { normalizeWebhookType, providerFor, WEBHOOK_TYPES, type WebhookType } from '../providers/registry.js';
import { IM_APP_TYPES, isImAppType } from '../direct-messages/im-app-types.js';
import { resealImApps } from '../direct-messages/im-app.commands.js';
import { PROJECT_WEBHOOKS } from './project-webhooks.js';
import { checkCustomHeaders, checkSigningSecret, checkWebhookUrl } from './url-rules.js';
import { maskUrl } from './url-mask.js';
import { decideWebhook, webhooksContext, type ProjectWebhooksEvent, type ProjectWebhooksState } from './webhook.decider.js';
import type { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto.js';
import { configOf, loadHook, projectMustExist, type WebhookRow } from './webhook.projection.js';
import { viewOf, type WebhookView } from './webhook.view.js';

/** Webhook configuration: create, update, delete, and the key rotation of their credentials. */

type ProjectWebhooks = AggregateStore<ProjectWebhooksState, ProjectWebhooksEvent>;

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

/** The rules a webhook's URL, signing secret and headers must meet for its type (400 naming each field). */
function assertSettings(
  type: WebhookType,
  input: { url?: string; signingSecret?: string | null; headers?: Record<string, string>; filter?: string | null; coalesce?: { windowSeconds: number }; directMessage?: boolean },
  config: HeraldConfig,
): void {
  const provider = providerFor(type);
  const errors: FieldError[] = [
    ...checkFilter(input.filter),
    ...checkCoalesce(type, input.coalesce),
    ...(input.directMessage === true && !isImAppType(type) ? [{ field: 'directMessage', message: `${type} has no IM app to send direct messages; one of ${IM_APP_TYPES.join(', ')} has` }] : []),
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
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
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
    const { state } = await this.projects.update(projectId, { metadata, ids: { webhook: 1 } }, (s, { ids, now }) => {
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
          ...(input.directMessage ? { directMessage: true } : {}),
        },
        s,
        webhooksContext(this.config.webhooks, now, metadata.actorId),
      );
    });
    return viewOf(this.store, state.webhooks[webhookId]);
  }
}

@CommandHandler(UpdateWebhookCommand)
export class UpdateWebhookHandler implements ICommandHandler<UpdateWebhookCommand> {
  constructor(
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
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
      (s, { now }) => decideWebhook({ kind: 'UpdateWebhook', webhookId, changes }, s, webhooksContext(this.config.webhooks, now, metadata.actorId)),
    );
    return viewOf(this.store, state.webhooks[webhookId]);
  }
}

@CommandHandler(DeleteWebhookCommand)
export class DeleteWebhookHandler implements ICommandHandler<DeleteWebhookCommand> {
  constructor(
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}
  async execute({ projectId, webhookId, metadata }: DeleteWebhookCommand): Promise<void> {
    await loadHook(this.store, projectId, webhookId);
    await this.projects.update(projectId, { metadata }, (s, { now }) => decideWebhook({ kind: 'DeleteWebhook', webhookId }, s, webhooksContext(this.config.webhooks, now, metadata.actorId)));
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
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
    private readonly store: EventStore,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
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
      await this.projects.update(hook.projectId, { metadata }, (s, { now }) =>
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
          s,
          webhooksContext(this.config.webhooks, now, metadata.actorId),
        ),
      );
      resealed++;
    }
    // the projects' IM apps hold credentials too
    resealed += await resealImApps(this.projects, this.store, box, metadata);
    return { resealed, keyId: box.currentKeyId };
  }
}

