import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { EventStore } from '../event-store/event-store.js';
import { Public } from '../users/auth.guard.js';
import { DeliveryDispatcher } from '../webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../webhooks/subscription/webhook-subscription.js';
import { CLOCK, type Clock } from './clock.js';

/** terminus' report, with the details Herald's indicators give. */
const indicators = {
  type: 'object',
  properties: {
    database: { type: 'object', properties: { status: { enum: ['up', 'down'] }, head: { type: 'integer', description: 'The log’s last position.' }, message: { type: 'string' } }, required: ['status'] },
    webhooks: {
      type: 'object',
      properties: {
        status: { enum: ['up', 'down'] },
        lagEvents: { type: 'integer', description: 'Events the webhook subscription has not processed yet.' },
        lagSeconds: { type: 'number', description: 'Age of the oldest of them.' },
        dispatcher: { enum: ['running', 'stopped'] },
        background: { type: 'boolean', description: 'false when background workers are off (HERALD_BACKGROUND_WORKERS=false).' },
        message: { type: 'string' },
      },
      required: ['status'],
    },
  },
  additionalProperties: false,
};
const report = (statuses: string[]) => ({
  type: 'object',
  properties: { status: { enum: statuses }, info: indicators, error: indicators, details: indicators },
  required: ['status', 'details'],
});
// terminus' own swagger decorators load @nestjs/swagger with require(), which only some runtimes allow: documented here instead
const HEALTH_CHECK = { noCache: true, swaggerDocumentation: false };
const HealthOk = ApiOkResponse({ description: 'Healthy.', schema: report(['ok']) });

interface Reply {
  status(code: number): Reply;
}

/**
 * /health/live: the process answers. /health/ready: the database answers, the webhook
 * subscription keeps up with the log, and the dispatcher runs (terminus' report shape).
 */
@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: EventStore,
    private readonly subscription: WebhookSubscription,
    private readonly dispatcher: DeliveryDispatcher,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('live')
  @HealthCheck(HEALTH_CHECK)
  @HealthOk
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck(HEALTH_CHECK)
  @HealthOk
  @ApiServiceUnavailableResponse({ description: 'Not ready: `error` names what failed.', schema: report(['error', 'shutting_down']) })
  @ApiOperation({
    summary: 'Readiness: the database answers, the webhook subscription keeps up with the log, the dispatcher runs',
    description: '503 with the same report when one of them fails (terminus’ shape, not a problem document).',
  })
  async ready(@Res({ passthrough: true }) reply: Reply) {
    try {
      return await this.health.check([() => this.database(), () => this.webhooks()]);
    } catch (error) {
      // terminus' own report, not a problem document: load balancers and operators read it as is
      if (error instanceof HttpException) {
        reply.status(error.getStatus());
        return error.getResponse();
      }
      throw error;
    }
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      return indicator.up({ head: await this.store.head() });
    } catch (error) {
      return indicator.down({ message: `unreachable: ${(error as Error).message}` });
    }
  }

  private async webhooks() {
    const indicator = this.indicators.check('webhooks');
    if (!this.config.webhooks.background) return indicator.up({ background: false });
    const lag = await this.subscription.lag(this.clock.now());
    const { maxLagEvents, maxLagSeconds } = this.config.readiness;
    const details = { lagEvents: lag.events, lagSeconds: lag.seconds, dispatcher: this.dispatcher.isRunning() ? 'running' : 'stopped' };
    if (!this.dispatcher.isRunning()) return indicator.down({ ...details, message: 'the delivery dispatcher is not running' });
    if (lag.events > maxLagEvents || lag.seconds > maxLagSeconds) {
      return indicator.down({ ...details, message: `the webhook subscription lags the log (at most ${maxLagEvents} events and ${maxLagSeconds} s)` });
    }
    return indicator.up(details);
  }
}
