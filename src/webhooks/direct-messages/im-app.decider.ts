import type { Evolving } from '../../event-store/event.js';
import { notFound } from '../../shared/errors.js';
import type { ImAppType } from './im-app-types.js';
import { ImAppRemoved, ImAppSecretsResealed, ImAppSet, type ImAppEvent, type ImAppSecretsResealedV1, type ImAppSetV1 } from './im-app.events.js';

/** A project's IM app: credentials sealed, as its last `im-app.set` left them. */
export type ImAppConfig = Omit<ImAppSetV1['data'], 'projectId'> & { projectId: number; updatedAt: string };

export type ImApps = Readonly<Partial<Record<ImAppType, ImAppConfig>>>;

export type ImAppCommand =
  | ({ kind: 'SetImApp' } & Omit<ImAppSetV1['data'], 'projectId'>)
  | { kind: 'RemoveImApp'; type: ImAppType }
  | ({ kind: 'ResealImApp' } & Omit<ImAppSecretsResealedV1['data'], 'projectId'>);

export const isImAppEvent = (event: { type: string }): event is ImAppEvent => event.type === ImAppSet || event.type === ImAppRemoved || event.type === ImAppSecretsResealed;

export function evolveImApps(apps: ImApps, event: Evolving<ImAppEvent>): ImApps {
  switch (event.type) {
    case ImAppSet:
      return { ...apps, [event.data.type]: { ...event.data, updatedAt: event.occurredAt } };
    case ImAppRemoved: {
      const { [event.data.type]: _removed, ...rest } = apps;
      return rest;
    }
    case ImAppSecretsResealed: {
      const app = apps[event.data.type];
      return app ? { ...apps, [app.type]: { ...app, credentials: event.data.credentials, credentialsDigest: event.data.credentialsDigest } } : apps;
    }
    default:
      return apps;
  }
}

/** Setting an app replaces it whole (every credential is given again); setting it as it is changes nothing. */
export function decideImApp(command: ImAppCommand, apps: ImApps, projectId: number): ImAppEvent[] {
  const existing = apps[command.type];
  if (command.kind === 'ResealImApp') {
    const { kind: _kind, ...data } = command;
    return existing ? [{ type: ImAppSecretsResealed, schemaVersion: 1, data: { ...data, projectId } }] : [];
  }
  if (command.kind === 'RemoveImApp') {
    if (!existing) throw notFound('IM app', command.type);
    return [{ type: ImAppRemoved, schemaVersion: 1, data: { projectId, type: command.type } }];
  }
  const { kind: _kind, ...data } = command;
  if (existing && existing.credentialsDigest === data.credentialsDigest && existing.apiBase === data.apiBase) return [];
  return [{ type: ImAppSet, schemaVersion: 1, data: { ...data, projectId } }];
}
