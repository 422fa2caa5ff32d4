import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsPhoneNumber, IsString, Matches, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { SLACK_MEMBER_ID, WECOM_USER_ID, broadcastMessage, isBroadcastHandle } from './contact-handles.js';
import type { Contact } from './user.events.js';

/*
 * A user's contact handles: what a webhook message may mention the user by. Each is checked
 * against its service's own shape (contact-handles.ts), so a handle can never carry markup into a message,
 * and none may be a mention of everyone, whatever its type.
 */

/** Refuses a handle that a chat service would read as a mention of everyone (isBroadcastHandle). */
const NotBroadcast = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'notBroadcast',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !isBroadcastHandle(value),
        defaultMessage: (args) => broadcastMessage(args?.property ?? 'handle'),
      },
    },
    options,
  );

const PHONE_DOC = 'A mobile number in international form (`+8613800000000`), stored as E.164: DingTalk messages mention the user by it. null removes it.';
const SLACK_DOC = 'The user’s Slack member id (`U024BE7LH`): Slack messages mention the user by it. null removes it.';
const WECOM_DOC = 'The user’s WeCom userid: WeCom messages mention the user by it. null removes it.';
const EVERYONE_DOC = ' No handle may be a mention of everyone (`all`, `@all`, `@here`, `@channel`, `@everyone`, `<!channel>` …, in any case or spacing): 400.';

/** The contact fields of a request (creating a user, or changing one). */
export class ContactDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 32, description: PHONE_DOC + EVERYONE_DOC, example: '+8613800000000' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @NotBroadcast() @IsPhoneNumber(undefined, { message: 'phone must be a valid mobile number in international form, e.g. +8613800000000' })
  phone?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, pattern: SLACK_MEMBER_ID.source, description: SLACK_DOC + EVERYONE_DOC, example: 'U024BE7LH' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @NotBroadcast() @Matches(SLACK_MEMBER_ID, { message: 'slackMemberId must be a Slack member id (U or W, then 2 to 20 upper-case letters or digits)' })
  slackMemberId?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, pattern: WECOM_USER_ID.source, description: WECOM_DOC + EVERYONE_DOC, example: 'zhangsan' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @NotBroadcast() @Matches(WECOM_USER_ID, { message: 'wecomUserId must be 1 to 64 letters, digits, _, -, @ or .' })
  wecomUserId?: string | null;
}

/** The contact after applying the given fields (absent: unchanged; null: removed), phone as E.164. */
export function applyContact(current: Contact, changes: Partial<Contact>): Contact {
  const phone = changes.phone === undefined ? current.phone : changes.phone === null ? null : (parsePhoneNumberFromString(changes.phone)?.number ?? changes.phone);
  return {
    phone,
    slackMemberId: changes.slackMemberId === undefined ? current.slackMemberId : changes.slackMemberId,
    wecomUserId: changes.wecomUserId === undefined ? current.wecomUserId : changes.wecomUserId,
  };
}
