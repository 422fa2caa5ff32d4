import type { Decider, DeciderContext } from '../event-store/decider.js';
import type { Evolving } from '../event-store/event.js';
import { conflict, notFound } from '../shared/errors.js';
import type { ApprovalStep } from '../issues/issue.events.js';
import { ApprovalStepsSet, MemberRemoved, MemberSet, ProjectCreated, ProjectRenamed, type ProjectEvent, type ProjectRole } from './project.events.js';

export interface ProjectState {
  exists: boolean;
  id: number;
  name: string;
  key: string;
  creatorId: number;
  members: Readonly<Record<number, ProjectRole>>;
  /** The approval new issues need unless they name their own; empty: none. */
  approvalSteps: ApprovalStep[];
  createdAt: string;
  updatedAt: string;
}

export const initialProjectState: ProjectState = {
  exists: false,
  id: 0,
  name: '',
  key: '',
  creatorId: 0,
  members: {},
  approvalSteps: [],
  createdAt: '',
  updatedAt: '',
};

export type ProjectCommand =
  | { kind: 'CreateProject'; projectId: number; name: string; key: string }
  | { kind: 'RenameProject'; name: string }
  | { kind: 'SetMember'; userId: number; role: ProjectRole }
  | { kind: 'RemoveMember'; userId: number }
  | { kind: 'SetApprovalSteps'; steps: ApprovalStep[] };

export function evolveProject(state: ProjectState, event: Evolving<ProjectEvent>): ProjectState {
  switch (event.type) {
    case ProjectCreated: {
      const d = event.data;
      return {
        exists: true,
        id: d.projectId,
        name: d.name,
        key: d.key,
        creatorId: d.creatorId,
        members: { [d.creatorId]: 'OWNER' },
        approvalSteps: [],
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    }
    case ProjectRenamed:
      return { ...state, name: event.data.to, updatedAt: event.occurredAt };
    case MemberSet:
      return { ...state, members: { ...state.members, [event.data.userId]: event.data.role } };
    case MemberRemoved: {
      const { [event.data.userId]: _removed, ...members } = state.members;
      return { ...state, members };
    }
    case ApprovalStepsSet:
      return { ...state, approvalSteps: event.data.steps, updatedAt: event.occurredAt };
    default:
      // the webhooks' events on the project's stream (see webhooks/config/project-webhooks.ts)
      return state;
  }
}

export function decideProject(command: ProjectCommand, state: ProjectState, ctx: DeciderContext): ProjectEvent[] {
  switch (command.kind) {
    case 'CreateProject':
      if (state.exists) throw conflict(`project ${state.id} already exists`);
      return [
        {
          type: ProjectCreated,
          schemaVersion: 1,
          data: { projectId: command.projectId, name: command.name, key: command.key, creatorId: ctx.actorId },
        },
      ];
    case 'RenameProject':
      if (!state.exists) throw notFound('project', state.id || '?');
      if (command.name === state.name) return [];
      return [{ type: ProjectRenamed, schemaVersion: 1, data: { projectId: state.id, from: state.name, to: command.name } }];
    case 'SetMember': {
      if (!state.exists) throw notFound('project', state.id || '?');
      const current = state.members[command.userId];
      if (current === command.role) return [];
      if (current === 'OWNER' && ownerCount(state) === 1) throw conflict(`user ${command.userId} is the project's last owner`);
      return [{ type: MemberSet, schemaVersion: 1, data: { projectId: state.id, userId: command.userId, role: command.role } }];
    }
    case 'RemoveMember': {
      if (!state.exists) throw notFound('project', state.id || '?');
      const current = state.members[command.userId];
      if (!current) throw notFound('member', command.userId);
      if (current === 'OWNER' && ownerCount(state) === 1) throw conflict(`user ${command.userId} is the project's last owner`);
      return [{ type: MemberRemoved, schemaVersion: 1, data: { projectId: state.id, userId: command.userId } }];
    }
    case 'SetApprovalSteps':
      if (!state.exists) throw notFound('project', state.id || '?');
      if (JSON.stringify(command.steps) === JSON.stringify(state.approvalSteps)) return [];
      return [{ type: ApprovalStepsSet, schemaVersion: 1, data: { projectId: state.id, steps: command.steps } }];
  }
}

export const projectDecider: Decider<ProjectCommand, ProjectEvent, ProjectState> = {
  initialState: initialProjectState,
  evolve: evolveProject,
  decide: decideProject,
};

const ownerCount = (state: ProjectState) => Object.values(state.members).filter((role) => role === 'OWNER').length;

/** A default project key from its name: upper-case letters and digits, at most 10. */
export function keyFromName(name: string): string {
  const key = name.toUpperCase().replace(/[^A-Z0-9]+/g, '').slice(0, 10);
  return /^[A-Z]/.test(key) ? key : `P${key}`.slice(0, 10);
}
