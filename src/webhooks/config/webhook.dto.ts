import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import type { CreateWebhookInput, UpdateWebhookInput } from '../../contract/webhooks.js';
import { CoalesceDto, COALESCE_DOC } from '../coalesce/coalesce.dto.js';
import { FILTER_DOC } from '../filters/filter.js';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsISO8601, IsObject, IsOptional, IsString, Length, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { ACTIVITY_TYPE_INPUTS, ACTIVITY_TYPES } from '../activity.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';
import { PROVIDERS, WEBHOOK_TYPES } from '../providers/registry.js';
import { QueryInteger } from '../../shared/query-integer.js';

const PROVIDER_LIST = WEBHOOK_TYPES.map((type) => PROVIDERS[type]);
const TYPE_DOC = `${WEBHOOK_TYPES.join(', ')} (or Bytebase’s \`bb.plugin.webhook.<type>\`; \`GET /api/webhook-types\` lists each with its hosts and signing).`;
const URL_DOC = 'https (http only where allowed); the host must be the provider’s own (any host for CUSTOM). Stored sealed, shown masked.';
const SECRET_DOC = `${PROVIDER_LIST.filter((p) => p.signingSecret)
  .map((p) => `${p.type}: ${p.signingSecret!.description}`)
  .join('; ')}. Never shown again.`;
const HEADERS_DOC = `Extra headers for ${PROVIDER_LIST.filter((p) => p.customHeaders).map((p) => p.type).join(', ')} webhooks (values are stored sealed and never shown).`;
const ACTIVITY_DOC = `The activities to post: ${ACTIVITY_TYPES.join(', ')}; Bytebase’s current names (ISSUE_CREATED, ISSUE_APPROVAL_REQUESTED…) are accepted for them. Answers use Herald’s.`;
const DM_DOC =
  'SLACK, FEISHU, LARK, WECOM, DINGTALK, TEAMS: the approvers asked, and the creator of an issue approved, sent back or whose rollout failed, also get a direct message from the project’s IM app of the same type (`PUT /api/projects/{id}/im-apps/{type}`); one who cannot be reached is mentioned in the channel instead.';
const ORDERED_DOC = 'Deliver each issue’s activities strictly in event order: a failing delivery holds back the later ones of its issue (coalesced ones included, until the message carrying its earlier ones goes).';

export class CreateWebhookDto implements CreateWebhookInput {
  @ApiProperty({ minLength: 1, maxLength: 100, description: TYPE_DOC, example: 'SLACK' })
  @IsString() @Length(1, 100) type: string;
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'deploys' })
  @IsString() @Length(1, 200) name: string;
  @ApiProperty({ minLength: 1, maxLength: 2048, description: URL_DOC, example: 'https://hooks.slack.com/services/T000/B000/XXXX' })
  @IsString() @Length(1, 2048) url: string;
  @ApiProperty({ enum: ACTIVITY_TYPE_INPUTS, isArray: true, minItems: 1, maxItems: ACTIVITY_TYPE_INPUTS.length, description: ACTIVITY_DOC })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPE_INPUTS.length) @IsIn(ACTIVITY_TYPE_INPUTS, { each: true }) activityTypes: string[];
  @ApiPropertyOptional({ default: true })
  @IsOptional() @IsBoolean() active?: boolean;
  @ApiPropertyOptional({ type: String, maxLength: 200, nullable: true, description: `${SECRET_DOC} null or absent: none.` })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(200) signingSecret?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: HEADERS_DOC })
  @IsOptional() @IsObject() headers?: Record<string, string>;
  @ApiPropertyOptional({ default: false, description: ORDERED_DOC })
  @IsOptional() @IsBoolean() ordered?: boolean;
  @ApiPropertyOptional({ type: String, maxLength: 1000, nullable: true, description: FILTER_DOC })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(1000) filter?: string | null;
  @ApiPropertyOptional({ type: CoalesceDto, description: COALESCE_DOC })
  @IsOptional() @ValidateNested() @Type(() => CoalesceDto) coalesce?: CoalesceDto;
  @ApiPropertyOptional({ default: false, description: DM_DOC })
  @IsOptional() @IsBoolean() directMessage?: boolean;
  @ApiPropertyOptional({ maxLength: 40, description: 'Send what the log holds since then at once, as `POST …/replay` with this `from` (an ISO time or `position:<n>`) would.', example: '2026-03-01T00:00:00Z' })
  @IsOptional() @IsString() @MaxLength(40) backfillFrom?: string;
}

export class UpdateWebhookDto implements UpdateWebhookInput {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ minLength: 1, maxLength: 2048, description: URL_DOC })
  @IsOptional() @IsString() @Length(1, 2048) url?: string;
  @ApiPropertyOptional({ enum: ACTIVITY_TYPE_INPUTS, isArray: true, minItems: 1, maxItems: ACTIVITY_TYPE_INPUTS.length, description: ACTIVITY_DOC })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPE_INPUTS.length) @IsIn(ACTIVITY_TYPE_INPUTS, { each: true }) activityTypes?: string[];
  @ApiPropertyOptional({ description: 'true also re-enables a webhook its health had disabled.' })
  @IsOptional() @IsBoolean() active?: boolean;
  /** null removes the secret. */
  @ApiPropertyOptional({ type: String, maxLength: 200, nullable: true, description: `${SECRET_DOC} null removes it; a new CUSTOM secret keeps the old one signing for 24 h.` })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(200) signingSecret?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: `${HEADERS_DOC} Replaces the set.` })
  @IsOptional() @IsObject() headers?: Record<string, string>;
  @ApiPropertyOptional({ description: ORDERED_DOC })
  @IsOptional() @IsBoolean() ordered?: boolean;
  @ApiPropertyOptional({ type: String, maxLength: 1000, nullable: true, description: `${FILTER_DOC} null removes it.` })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(1000) filter?: string | null;
  @ApiPropertyOptional({ type: CoalesceDto, description: COALESCE_DOC })
  @IsOptional() @ValidateNested() @Type(() => CoalesceDto) coalesce?: CoalesceDto;
  @ApiPropertyOptional({ default: false, description: DM_DOC })
  @IsOptional() @IsBoolean() directMessage?: boolean;
}

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional() @IsIn(DELIVERY_STATUSES) status?: DeliveryStatus;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @QueryInteger(1, 200) limit?: number;
  @ApiPropertyOptional({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })
  @IsOptional() @IsString() @MaxLength(200) cursor?: string;
}

export class RecoverDto {
  @ApiProperty({ format: 'date-time', description: 'Queue again every FAILED or SKIPPED delivery created since this time.', example: '2026-03-01T00:00:00Z' })
  @IsISO8601({ strict: true }) since: string;
}
