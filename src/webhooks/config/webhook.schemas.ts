import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AttemptView, DeliveryDetailView, DeliveryView, RecoverResult, RedeliverResult } from '../../contract/deliveries.js';
import { RETIRED_URL_KINDS, type RetiredUrlKind, type RetiredUrlView, type TestResult, type WebhookCreatedView, type WebhookHealthState, type WebhookView } from '../../contract/webhooks.js';
import { PageSchema } from '../../shared/openapi.js';
import { ACTIVITY_TYPES, type ActivityType } from '../activity.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery/deliveries.js';
import { WEBHOOK_TYPES } from '../providers/registry.js';
import { WEBHOOK_STATES } from './webhook.events.js';

export class CoalesceSchema {
  @ApiProperty({ type: 'integer' }) windowSeconds: number;
}

export class RetiredUrlSchema implements RetiredUrlView {
  @ApiProperty({ enum: RETIRED_URL_KINDS, description: 'TEAMS_O365_CONNECTOR: an Office 365 connector URL (`*.webhook.office.com`, `outlook.office.com`), retired by Microsoft in 2026. TEAMS_WORKFLOWS_LOGIC_APPS: a Workflows URL on `*.logic.azure.com`, stopped on 2025-11-30.' }) kind: RetiredUrlKind;
  @ApiProperty({ description: 'For people: what was retired, and what to do.' }) message: string;
  @ApiProperty({ description: 'The kind of URL to use instead.', example: 'https://*.environment.api.powerplatform.com/…' }) useInstead: string;
}

/** The API's shapes of webhooks and deliveries, as documented in OpenAPI (`implements` keeps them in step with the contract's views). */
export class WebhookSchema implements WebhookView {
  @ApiProperty() id: number;
  @ApiProperty() projectId: number;
  @ApiProperty({ enum: WEBHOOK_TYPES }) type: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Masked: scheme, host and first path segment only (URLs carry tokens).', example: 'https://hooks.slack.com/services/***' }) url: string;
  @ApiProperty({ enum: ACTIVITY_TYPES, isArray: true }) activityTypes: ActivityType[];
  @ApiProperty({ description: 'Set by its managers; false pauses deliveries (they wait as HELD).' }) active: boolean;
  @ApiProperty({ enum: WEBHOOK_STATES, description: 'Health: TEMPORARILY_DISABLED after repeated failures (until disabledUntil), DISABLED for good (410, or too many failures).' }) state: WebhookHealthState;
  @ApiProperty() consecutiveFailures: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabledUntil: string | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ description: 'Whether a signing secret is set (never shown).' }) hasSigningSecret: boolean;
  @ApiProperty({ type: [String], description: 'Names of the custom headers (values are never shown).' }) headerNames: string[];
  @ApiProperty({ description: 'Deliver strictly in event order (a failing delivery holds back the later ones).' }) ordered: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The CEL expression an activity must pass (null: none).', example: 'level == "ERROR" && stage.name == "prod"' }) filter: string | null;
  @ApiProperty({ type: CoalesceSchema, description: 'The coalescing window in effect (0: off).' }) coalesce: CoalesceSchema;
  @ApiProperty({
    type: RetiredUrlSchema,
    nullable: true,
    description: 'Set when the URL is of a kind its service has retired (still accepted, for tenants that have one): what to use instead. Null otherwise.',
  })
  retiredUrl: RetiredUrlSchema | null;
  @ApiProperty({ description: 'The people an activity asks to act also get a direct message, from the project’s IM app of this type.' }) directMessage: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class BackfillSchema {
  @ApiProperty({ description: 'It reads the log in the background: follow it at GET …/webhooks/{webhookId}/replays/{replayId}.' }) replayId: string;
}

export class WebhookCreatedSchema extends WebhookSchema implements WebhookCreatedView {
  @ApiPropertyOptional({ type: BackfillSchema, description: 'When `backfillFrom` was given: the replay it started.' }) backfill?: BackfillSchema;
}

export class WebhookUrlSchema {
  @ApiProperty({ description: 'The URL in clear.' }) url: string;
}

export class TestResultSchema implements TestResult {
  @ApiProperty() delivered: boolean;
  @ApiPropertyOptional({ description: 'The endpoint’s HTTP status, when it answered.' }) statusCode?: number;
  @ApiProperty() durationMs: number;
  @ApiPropertyOptional() error?: string;
}

export class DeliverySchema implements DeliveryView {
  @ApiProperty({ description: 'Stable for an (event, webhook) pair: the Custom provider sends it as webhook-id.', example: 'msg_2f1c...' }) id: string;
  @ApiProperty() webhookId: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The event’s position in the log (null for a test message).' }) eventPosition: number | null;
  @ApiProperty({ example: 'bb.issue.create' }) activityType: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attemptCount: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it is attempted next (PENDING, RETRYING, HELD).' }) nextAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The message’s title (for a coalesced message, its summary).' }) title: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The issue it is about (null for a test message).' }) issueId: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'COALESCED: the delivery whose message carried this one.' }) carriedBy: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'A direct message: the user it goes to, through the project’s IM app (null: the channel message).' }) recipientId: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export const DeliveryPageSchema = PageSchema(DeliverySchema, 'DeliveryPage');

export class AttemptRequestSchema {
  @ApiProperty({ description: 'Masked.' }) url: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Custom header values are masked.' }) headers: Record<string, string>;
  @ApiProperty({ description: 'The body as sent.' }) body: string;
}

export class AttemptResponseSchema {
  @ApiProperty() status: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers: Record<string, string>;
  @ApiProperty({ description: 'UTF-8, cut to the first 16 KiB.' }) body: string;
}

export class AttemptSchema implements AttemptView {
  @ApiProperty({ description: '1 for the first attempt.' }) number: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty() durationMs: number;
  @ApiProperty({ type: AttemptRequestSchema }) request: AttemptRequestSchema;
  @ApiPropertyOptional({ type: AttemptResponseSchema, description: 'Absent when no answer came (timeout, refused, blocked address).' }) response?: AttemptResponseSchema;
  @ApiPropertyOptional({ description: 'What went wrong on the way (timeout, DNS, TLS...).' }) error?: string;
  @ApiProperty({ enum: ['delivered', 'retry', 'failed'] }) verdict: string;
  @ApiPropertyOptional({ description: 'Why it was not delivered.' }) reason?: string;
}

export class CarriedDeliverySchema {
  @ApiProperty() id: string;
  @ApiProperty() eventPosition: number;
}

export class DeliveryDetailSchema extends DeliverySchema implements DeliveryDetailView {
  @ApiProperty({ type: [CarriedDeliverySchema], description: 'A coalesced message: the other deliveries (events) it carries, besides its own.' }) carries: CarriedDeliverySchema[];
  @ApiProperty({ type: [AttemptSchema] }) attempts: AttemptSchema[];
}

export class AcceptedSchema implements RedeliverResult {
  @ApiProperty({ example: true }) accepted: boolean;
}

export class RecoverResultSchema implements RecoverResult {
  @ApiProperty({ description: 'Deliveries queued again.' }) requeued: number;
}

export class ResealResultSchema {
  @ApiProperty({ description: 'Webhooks sealed again.' }) resealed: number;
  @ApiProperty({ description: 'The id of the current key.' }) keyId: string;
}
