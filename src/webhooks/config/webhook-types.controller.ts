import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { WebhookTypeInfo } from '../../contract/webhooks.js';
import { PROVIDERS, WEBHOOK_TYPES } from '../providers/registry.js';
import { windowMs } from '../coalesce/window.js';
import { allowedHosts } from './url-rules.js';

/** What a client needs to offer one webhook type: read from the provider registry, never copied. */
export class WebhookTypeSchema implements WebhookTypeInfo {
  @ApiProperty({ enum: WEBHOOK_TYPES, description: 'The short form the API returns.' }) type: string;
  @ApiProperty({ type: [String], description: 'Other spellings accepted on input (Bytebase’s `bb.plugin.webhook.<type>`).' }) aliases: string[];
  @ApiProperty({ example: 'Slack' }) displayName: string;
  @ApiProperty({ description: 'A URL of the provider’s shape (for placeholders).' }) exampleUrl: string;
  @ApiProperty({ type: [String], description: 'Hosts accepted for its URLs (`*.` any subdomain), the operator’s included; empty: any host.' }) hosts: string[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'What its signing secret is; null when the provider has no signing.' }) signingSecret: string | null;
  @ApiPropertyOptional({ description: 'For people writing the receiver: what it must answer for a delivery to count as delivered.' }) answerRule?: string;
  @ApiProperty({ description: 'Whether it takes custom headers.' }) customHeaders: boolean;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Its coalescing window when a webhook sets none (0: off); null when it never coalesces (one activity per body).', example: 60 })
  defaultCoalesceSeconds: number | null;
}

@ApiTags('webhooks')
@Controller('api/webhook-types')
export class WebhookTypesController {
  constructor(@Inject(HERALD_CONFIG) private readonly config: HeraldConfig) {}

  @Get()
  @ApiOperation({ summary: 'The webhook types this Herald offers, with their hosts and signing' })
  @ApiOkResponse({ type: [WebhookTypeSchema] })
  list(): WebhookTypeInfo[] {
    return WEBHOOK_TYPES.map((type) => {
      const p = PROVIDERS[type];
      return {
        type,
        aliases: [...p.aliases],
        displayName: p.displayName,
        exampleUrl: p.exampleUrl,
        hosts: p.hosts.length === 0 ? [] : allowedHosts(p, this.config.webhooks),
        signingSecret: p.signingSecret?.description ?? null,
        ...(p.answerRule ? { answerRule: p.answerRule } : {}),
        customHeaders: p.customHeaders,
        // a type whose window stays 0 whatever is asked never coalesces
        defaultCoalesceSeconds: windowMs({ type, coalesce: { windowSeconds: 1 } }) === 0 ? null : windowMs({ type }) / 1000,
      };
    });
  }
}
