/** The chat services whose apps can send direct messages: each answers the webhooks of the same type. */
export const IM_APP_TYPES = ['SLACK', 'FEISHU', 'LARK', 'WECOM', 'DINGTALK', 'TEAMS'] as const;
export type ImAppType = (typeof IM_APP_TYPES)[number];

/** A project's IM app as the API shows it: which credentials are set, never their values. */
export interface ImAppView {
  projectId: number;
  type: ImAppType;
  /** Where its API is reached (the vendor's public API unless set). */
  apiBase: string;
  /** The credential fields it has (their values are never shown). */
  credentials: string[];
  updatedAt: string;
}

/** PUT /api/projects/{id}/im-apps/{type}: every credential its vendor needs (see `GET /api/im-app-types`), and where its API is. */
export interface SetImAppInput {
  credentials: Record<string, string>;
  /** Absent: the vendor's public API. */
  apiBase?: string;
}

/** One IM app type: what its vendor's API needs. */
export interface ImAppTypeInfo {
  type: ImAppType;
  displayName: string;
  /** The credential fields, in the vendor's words. */
  credentials: { name: string; description: string }[];
  defaultApiBase: string;
  /** How it finds a person: the handle it uses as is, and what it looks up by. */
  finds: string;
}

/** What became of the direct message to one person for one activity and webhook. */
export const DM_DECISION_KINDS = ['dm-scheduled', 'dm-sent', 'dm-no-handle', 'dm-fell-back', 'dm-failed'] as const;
export type DmDecisionKind = (typeof DM_DECISION_KINDS)[number];

export interface DmDecisionView {
  userId: number;
  decision: DmDecisionKind;
  /** Why it fell back to the channel, or why it failed. */
  reason?: string;
  deliveryId: string;
  status: string;
}
