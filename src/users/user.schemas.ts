import { ApiProperty } from '@nestjs/swagger';
import { USER_ROLES, type UserRole } from './user.events.js';
import type { UserView } from './users.service.js';

/** The API's shapes of users and tokens, as documented in OpenAPI. */
export class UserSchema implements UserView {
  @ApiProperty({ example: 2 }) id: number;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'email' }) email: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty({ type: String, nullable: true, description: 'E.164; DingTalk messages mention the user by it.', example: '+8613800000000' }) phone: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Slack messages mention the user by it.', example: 'U024BE7LH' }) slackMemberId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'WeCom messages mention the user by it.' }) wecomUserId: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class CreatedUserSchema extends UserSchema {
  @ApiProperty({ description: 'The user’s first API token: shown this once, never again.', example: 'hrld_...' }) token: string;
}

export class TokenSchema {
  @ApiProperty() id: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class IssuedTokenSchema extends TokenSchema {
  @ApiProperty({ description: 'The token: shown this once, never again.', example: 'hrld_...' }) token: string;
}
