import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ImAppView, SetImAppInput } from '../../contract/im-apps.js';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { AggregateStore, Metadata } from '../../event-store/aggregate-store.js';
import { EventStore } from '../../event-store/event-store.js';
import { invalid, notFound, type FieldError } from '../../shared/errors.js';
import { SECRET_BOX, SecretBox } from '../../shared/secret-box.js';
import { maskApiBase } from '../../shared/url-mask.js';
import { PROJECT_WEBHOOKS } from '../config/project-webhooks.js';
import { checkWebhookUrl } from '../config/url-rules.js';
import { projectWebhooksDecider, type ProjectWebhooksEvent, type ProjectWebhooksState } from '../config/webhook.decider.js';
import { projectMustExist } from '../config/webhook.projection.js';
import { IM_APP_TYPES, imAppKind, isImAppType, type ImAppType } from './im-app-types.js';
import type { ImAppCommand, ImAppConfig } from './im-app.decider.js';
import { listImApps, loadImApp } from './im-app.projection.js';

/** A project's IM apps: set (every credential again), remove, list. OWNERs and admins only. */

type ProjectWebhooks = AggregateStore<ProjectWebhooksState, ProjectWebhooksEvent>;

export class SetImAppCommand extends Command<ImAppView> {
  constructor(readonly projectId: number, readonly type: string, readonly input: SetImAppInput, readonly metadata: Metadata) {
    super();
  }
}
export class RemoveImAppCommand extends Command<void> {
  constructor(readonly projectId: number, readonly type: string, readonly metadata: Metadata) {
    super();
  }
}
export class ListImAppsQuery extends Query<ImAppView[]> {
  constructor(readonly projectId: number) {
    super();
  }
}

/** An app as shown: its API base masked like a webhook URL (a proxy may carry a key in its path). */
export function toImAppView(app: ImAppConfig): ImAppView {
  return { projectId: app.projectId, type: app.type, apiBase: maskApiBase(app.apiBase ?? imAppKind(app.type).defaultApiBase), credentials: Object.keys(app.credentials), updatedAt: app.updatedAt };
}

function imAppType(raw: string): ImAppType {
  const type = raw.toUpperCase();
  if (!isImAppType(type)) throw invalid(`unknown IM app type ${raw}`, [{ field: 'type', message: `must be one of ${IM_APP_TYPES.join(', ')}` }]);
  return type;
}

/** The vendor's credentials, each of its shape, and nothing else; the API base by the webhooks' outbound rules. */
function checkInput(type: ImAppType, input: SetImAppInput, config: HeraldConfig): FieldError[] {
  const kind = imAppKind(type);
  const errors: FieldError[] = [];
  const given = input.credentials ?? {};
  for (const credential of kind.credentials) {
    const value = given[credential.name];
    const problem = typeof value !== 'string' ? `is required: ${credential.description}` : credential.check(value);
    if (problem) errors.push({ field: `credentials.${credential.name}`, message: problem });
  }
  for (const name of Object.keys(given)) {
    if (!kind.credentials.some((c) => c.name === name)) errors.push({ field: `credentials.${name}`, message: `is not a ${type} credential; ${type} takes ${kind.credentials.map((c) => c.name).join(', ')}` });
  }
  if (input.apiBase !== undefined) {
    errors.push(...checkWebhookUrl(input.apiBase, { type, hosts: kind.hosts }, config.webhooks).map((e) => ({ ...e, field: 'apiBase' })));
    if (/[?#]/.test(input.apiBase)) errors.push({ field: 'apiBase', message: 'must not carry a query or a fragment: the API’s paths are added to it' });
  }
  return errors;
}

@CommandHandler(SetImAppCommand)
export class SetImAppHandler implements ICommandHandler<SetImAppCommand> {
  constructor(
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async execute({ projectId, type: raw, input, metadata }: SetImAppCommand): Promise<ImAppView> {
    await projectMustExist(this.store, projectId);
    const type = imAppType(raw);
    const errors = checkInput(type, input, this.config);
    if (errors.length > 0) throw invalid(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
    const names = imAppKind(type).credentials.map((c) => c.name);
    const credentials = Object.fromEntries(names.map((name) => [name, this.box.seal(input.credentials[name])]));
    const apiBase = input.apiBase?.replace(/\/+$/, '') ?? null;
    const credentialsDigest = this.box.digest(JSON.stringify(names.map((name) => input.credentials[name])));
    const { state } = await this.projects.update(projectId, { metadata }, (s, { now }) => decideOn(s, { kind: 'SetImApp', type, apiBase, credentials, credentialsDigest }, now, metadata.actorId));
    return toImAppView(state.imApps[type]!);
  }
}

@CommandHandler(RemoveImAppCommand)
export class RemoveImAppHandler implements ICommandHandler<RemoveImAppCommand> {
  constructor(
    @Inject(PROJECT_WEBHOOKS) private readonly projects: ProjectWebhooks,
    private readonly store: EventStore,
  ) {}

  async execute({ projectId, type: raw, metadata }: RemoveImAppCommand): Promise<void> {
    await projectMustExist(this.store, projectId);
    const type = imAppType(raw);
    if (!(await loadImApp(this.store, projectId, type))) throw notFound('IM app', type);
    await this.projects.update(projectId, { metadata }, (s, { now }) => decideOn(s, { kind: 'RemoveImApp', type }, now, metadata.actorId));
  }
}

@QueryHandler(ListImAppsQuery)
export class ListImAppsHandler implements IQueryHandler<ListImAppsQuery> {
  constructor(private readonly store: EventStore) {}

  async execute({ projectId }: ListImAppsQuery): Promise<ImAppView[]> {
    await projectMustExist(this.store, projectId);
    return (await listImApps(this.store, projectId)).map(toImAppView);
  }
}

/**
 * Key rotation: every IM app whose credentials are sealed under an older key (or whose digest is)
 * is sealed again under the current one; returns how many. Run with the webhooks' reseal.
 */
export async function resealImApps(projects: ProjectWebhooks, store: EventStore, box: SecretBox, metadata: Metadata): Promise<number> {
  let resealed = 0;
  for (const app of (await store.query<{ config: string }>(`SELECT config FROM rm_im_apps ORDER BY project_id, type`)).map((row) => JSON.parse(row.config) as ImAppConfig)) {
    const sealed = Object.values(app.credentials);
    if (!sealed.some((value) => box.isStale(value)) && app.credentialsDigest.startsWith(`h1:${box.currentKeyId}:`)) continue;
    const names = imAppKind(app.type).credentials.map((c) => c.name);
    const plain = Object.fromEntries(Object.entries(app.credentials).map(([name, value]) => [name, box.open(value)]));
    const credentials = Object.fromEntries(Object.entries(app.credentials).map(([name, value]) => [name, box.isStale(value) ? box.seal(plain[name]) : value]));
    const credentialsDigest = box.digest(JSON.stringify(names.map((name) => plain[name])));
    await projects.update(app.projectId, { metadata }, (s, { now }) => decideOn(s, { kind: 'ResealImApp', type: app.type, keyId: box.currentKeyId, credentials, credentialsDigest }, now, metadata.actorId));
    resealed++;
  }
  return resealed;
}

/** Through the aggregate's decider, which routes IM app commands (no webhook is created: the cap does not apply). */
function decideOn(state: ProjectWebhooksState, command: ImAppCommand, now: Date, actorId: number) {
  return projectWebhooksDecider.decide(command, state, { now, actorId, maxWebhooksPerProject: Infinity });
}
