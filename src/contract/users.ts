export const USER_ROLES = ['SYSTEM', 'ADMIN', 'MEMBER'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * The handles a webhook message may mention the user by, all of them as they are now (null:
 * none): `phone` in E.164 (DingTalk), a Slack member id, a WeCom userid. Feishu/Lark mention by email.
 */
export interface Contact {
  phone: string | null;
  slackMemberId: string | null;
  wecomUserId: string | null;
}

/** GET /api/users/{id}, /api/users/me. */
export interface UserView extends Contact {
  id: number;
  name: string;
  email: string;
  role: UserRole;
  createdAt: string;
}
