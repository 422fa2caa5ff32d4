import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

const PUBLIC = 'herald:public';
const ADMIN_ONLY = 'herald:admin-only';
const PROJECT_ACCESS = 'herald:project-access';

/**
 * Who may call a route under a project (found from :projectId, or from :issueId's
 * project): any member, or only its OWNERs. Workspace admins may always. A caller who
 * is not a member gets 404, as if the project (or issue) did not exist.
 */
export type ProjectAccess = 'member' | 'owner';
export const ForProject = (access: ProjectAccess) => SetMetadata(PROJECT_ACCESS, access);

/** A route anyone may call (health, the bare benchmark route). */
export const Public = () => SetMetadata(PUBLIC, true);
/** A route only workspace admins may call. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

export interface RouteAccess {
  public: boolean;
  adminOnly: boolean;
  project?: ProjectAccess;
}

/** Who may call a route, from its decorators (method over class): the guard acts on it, the OpenAPI document describes it. */
export function routeAccess(reflector: Reflector, targets: [handler: Function, controller: Function]): RouteAccess {
  return {
    public: reflector.getAllAndOverride<boolean>(PUBLIC, targets) === true,
    adminOnly: reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) === true,
    project: reflector.getAllAndOverride<ProjectAccess | undefined>(PROJECT_ACCESS, targets),
  };
}
