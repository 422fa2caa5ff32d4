import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsISO8601, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ACTIVITY_TYPES, type ActivityType } from '../activity.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';

export class CreateWebhookDto {
  @IsString() @Length(1, 100) type: string;
  @IsString() @Length(1, 200) name: string;
  @IsString() @Length(1, 2048) url: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPES.length) @IsIn(ACTIVITY_TYPES, { each: true }) activityTypes: ActivityType[];
  @IsOptional() @IsBoolean() active?: boolean;
  @IsOptional() @IsString() @MaxLength(200) signingSecret?: string;
  @IsOptional() @IsObject() headers?: Record<string, string>;
  @IsOptional() @IsBoolean() ordered?: boolean;
}

export class UpdateWebhookDto {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsOptional() @IsString() @Length(1, 2048) url?: string;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ACTIVITY_TYPES.length) @IsIn(ACTIVITY_TYPES, { each: true }) activityTypes?: ActivityType[];
  @IsOptional() @IsBoolean() active?: boolean;
  /** null removes the secret. */
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(200) signingSecret?: string | null;
  @IsOptional() @IsObject() headers?: Record<string, string>;
  @IsOptional() @IsBoolean() ordered?: boolean;
}

export class ListDeliveriesQueryDto {
  @IsOptional() @IsIn(DELIVERY_STATUSES) status?: DeliveryStatus;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
  @IsOptional() @IsString() @MaxLength(200) cursor?: string;
}

export class RecoverDto {
  @IsISO8601({ strict: true }) since: string;
}
