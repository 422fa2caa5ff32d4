import type { Decider, DeciderContext } from '../../event-store/decider.js';
import type { Evolving } from '../../event-store/event.js';
import { ProjectCreated, ProjectRenamed, type ProjectEvent } from '../../projects/project.events.js';
import { conflict, notFound } from '../../shared/errors.js';
import { decideImApp, evolveImApps, isImAppEvent, type ImAppCommand, type ImApps } from '../direct-messages/im-app.decider.js';
import type { ImAppEvent } from '../direct-messages/im-app.events.js';
import {
  WebhookCreated,
  WebhookDeleted,
  WebhookHealthChanged,
  WebhookSecretsResealed,
  WebhookUpdated,
  type WebhookEvent,
  type WebhookHealthState,
  type WebhookSettingsData,
} from './webhook.events.js';

export interface WebhookConfig extends WebhookSettingsData {
  id: number;
  projectId: number;
  health: { state: WebhookHealthState; disabledUntil: string | null; lastError: string | null };
  createdAt: string;
  updatedAt: string;
}

export type Webhooks = Readonly<Record<number, WebhookConfig>>;

/** What a decision about a project's webhooks knows besides the command: the cap of webhooks per project (HERALD_MAX_WEBHOOKS_PER_PROJECT). */
export interface WebhooksContext extends DeciderContext {
  maxWebhooksPerProject: number;
}

/** The context of a decision made now by this actor, under the operator's webhook settings. */
export const webhooksContext = (settings: { maxPerProject: number }, now: Date, actorId: number): WebhooksContext => ({ now, actorId, maxWebhooksPerProject: settings.maxPerProject });

export type WebhookCommand =
  | ({ kind: 'CreateWebhook'; webhookId: number } & WebhookSettingsData)
  | { kind: 'UpdateWebhook'; webhookId: number; changes: Partial<Omit<WebhookSettingsData, 'type' | 'previousSigningSecret'>> }
  | ({ kind: 'ResealSecrets'; webhookId: number; keyId: string } & Pick<WebhookSettingsData, 'url' | 'urlDigest' | 'signingSecret' | 'previousSigningSecret' | 'headers'>)
  | { kind: 'DeleteWebhook'; webhookId: number }
  | {
      kind: 'ChangeWebhookHealth';
      webhookId: number;
      state: WebhookHealthState;
      consecutiveFailures: number;
      disabledUntil: string | null;
      lastError: string | null;
      cause: string;
    };

export function evolveWebhooks(webhooks: Webhooks, event: Evolving<WebhookEvent>): Webhooks {
  const at = event.occurredAt;
  switch (event.type) {
    case WebhookCreated: {
      const { projectId, webhookId, ...settings } = event.data;
      return {
        ...webhooks,
        [webhookId]: { ...settings, id: webhookId, projectId, health: { state: 'ACTIVE', disabledUntil: null, lastError: null }, createdAt: at, updatedAt: at },
      };
    }
    case WebhookUpdated: {
      const hook = webhooks[event.data.webhookId];
      if (!hook) return webhooks;
      return { ...webhooks, [hook.id]: { ...hook, ...event.data.changes, updatedAt: at } };
    }
    case WebhookDeleted: {
      const { [event.data.webhookId]: _deleted, ...rest } = webhooks;
      return rest;
    }
    case WebhookSecretsResealed: {
      const hook = webhooks[event.data.webhookId];
      if (!hook) return webhooks;
      const { projectId: _p, webhookId: _w, keyId: _k, ...sealed } = event.data;
      return { ...webhooks, [hook.id]: { ...hook, ...sealed } };
    }
    case WebhookHealthChanged: {
      const hook = webhooks[event.data.webhookId];
      if (!hook) return webhooks;
      const { state, disabledUntil, lastError } = event.data;
      return { ...webhooks, [hook.id]: { ...hook, health: { state, disabledUntil, lastError } } };
    }
    default:
      return webhooks;
  }
}

/**
 * A project's webhooks, folded from the project's stream: the stream is their consistency
 * boundary (one webhook per URL in a project), so their events are appended to it. The
 * projects slice knows nothing of webhooks; this slice reads the project events it needs.
 */
export interface ProjectWebhooksState {
  exists: boolean;
  id: number;
  /** The project's name, for the activities of its deliveries. */
  name: string;
  webhooks: Webhooks;
  /** Its IM apps, which send its webhooks' direct messages (see direct-messages/). */
  imApps: ImApps;
}

export const initialProjectWebhooksState: ProjectWebhooksState = { exists: false, id: 0, name: '', webhooks: {}, imApps: {} };

export type ProjectWebhooksEvent = ProjectEvent | WebhookEvent | ImAppEvent;

export function evolveProjectWebhooks(state: ProjectWebhooksState, event: Evolving<ProjectWebhooksEvent>): ProjectWebhooksState {
  switch (event.type) {
    case ProjectCreated:
      return { exists: true, id: event.data.projectId, name: event.data.name, webhooks: {}, imApps: {} };
    case ProjectRenamed:
      return { ...state, name: event.data.to };
    default: {
      if (isImAppEvent(event)) return { ...state, imApps: evolveImApps(state.imApps ?? {}, event as Evolving<ImAppEvent>) };
      const webhooks = evolveWebhooks(state.webhooks, event as Evolving<WebhookEvent>);
      return webhooks === state.webhooks ? state : { ...state, webhooks };
    }
  }
}

/** Decisions about a project's webhooks: the project's stream is the consistency boundary (duplicate URLs). */
export function decideWebhook(command: WebhookCommand, state: ProjectWebhooksState, ctx: WebhooksContext): WebhookEvent[] {
  const { id: projectId, webhooks } = state;
  const base = { projectId, webhookId: command.webhookId };
  const existing = webhooks[command.webhookId];
  const duplicateOf = (urlDigest: string) => Object.values(webhooks).find((h) => h.id !== command.webhookId && h.urlDigest === urlDigest);
  switch (command.kind) {
    case 'CreateWebhook': {
      const { kind: _kind, webhookId: _id, ...settings } = command;
      const duplicate = duplicateOf(settings.urlDigest);
      if (duplicate) throw conflict(`webhook ${duplicate.id} of this project already posts to this URL`);
      // decided on the stream, so creations that race queue on it and cannot pass the cap together
      const count = Object.keys(webhooks).length;
      if (count >= ctx.maxWebhooksPerProject) {
        throw conflict(
          `project ${projectId} has ${count} webhooks, the most a project may have (HERALD_MAX_WEBHOOKS_PER_PROJECT=${ctx.maxWebhooksPerProject}): ` +
            'delete one, or ask the operator to raise HERALD_MAX_WEBHOOKS_PER_PROJECT',
        );
      }
      return [{ type: WebhookCreated, schemaVersion: 2, data: { ...base, ...settings } }];
    }
    case 'UpdateWebhook': {
      if (!existing) throw notFound('webhook', command.webhookId);
      const changes: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(command.changes)) {
        if (value !== undefined && JSON.stringify(value) !== JSON.stringify(existing[key as keyof WebhookConfig])) changes[key] = value;
      }
      // sealed values differ on every sealing: the same URL is told by its digest
      if (command.changes.urlDigest === existing.urlDigest) {
        delete changes.url;
        delete changes.urlMasked;
        delete changes.urlDigest;
      }
      if (typeof changes.urlDigest === 'string' && duplicateOf(changes.urlDigest)) throw conflict(`webhook ${duplicateOf(changes.urlDigest)!.id} of this project already posts to this URL`);
      // a new signing secret: the old one keeps signing for 24 hours, so receivers can roll over
      if ('signingSecret' in changes) {
        changes.previousSigningSecret = existing.signingSecret ? { secret: existing.signingSecret, until: new Date(ctx.now.getTime() + 86_400_000).toISOString() } : null;
      }
      const events: WebhookEvent[] = [];
      if (Object.keys(changes).length > 0) events.push({ type: WebhookUpdated, schemaVersion: 2, data: { ...base, changes } });
      // setting a disabled webhook active again re-enables it
      if (command.changes.active === true && existing.health.state !== 'ACTIVE') {
        events.push(healthEvent(base, { state: 'ACTIVE', consecutiveFailures: 0, disabledUntil: null, lastError: existing.health.lastError, cause: 'reactivated' }));
      }
      return events;
    }
    case 'ResealSecrets': {
      if (!existing) return [];
      const { kind: _kind, ...data } = command;
      return [{ type: WebhookSecretsResealed, schemaVersion: 1, data: { ...data, projectId } }];
    }
    case 'DeleteWebhook':
      if (!existing) throw notFound('webhook', command.webhookId);
      return [{ type: WebhookDeleted, schemaVersion: 1, data: base }];
    case 'ChangeWebhookHealth': {
      if (!existing) return [];
      const { kind: _kind, webhookId: _id, ...health } = command;
      if (health.state === existing.health.state && health.disabledUntil === existing.health.disabledUntil) return [];
      return [healthEvent(base, health)];
    }
  }
}

export const projectWebhooksDecider: Decider<WebhookCommand | ImAppCommand, ProjectWebhooksEvent, ProjectWebhooksState, WebhooksContext> = {
  initialState: initialProjectWebhooksState,
  evolve: evolveProjectWebhooks,
  // the project's own events come from the projects slice: this decider only appends webhook and IM app events
  decide: (command, state, ctx) => (command.kind === 'SetImApp' || command.kind === 'RemoveImApp' || command.kind === 'ResealImApp' ? decideImApp(command, state.imApps, state.id) : decideWebhook(command, state, ctx)),
};

function healthEvent(
  base: { projectId: number; webhookId: number },
  health: { state: WebhookHealthState; consecutiveFailures: number; disabledUntil: string | null; lastError: string | null; cause: string },
): WebhookEvent {
  return { type: WebhookHealthChanged, schemaVersion: 1, data: { ...base, ...health } };
}
