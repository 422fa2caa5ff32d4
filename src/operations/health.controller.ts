import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { storageFault } from '../database/storage-errors.js';
import { StorageHealth } from '../database/storage-health.js';
import { EventStore } from '../event-store/event-store.js';
import { Public } from '../shared/route-access.js';
import { DeliveryDispatcher } from '../webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../webhooks/subscription/webhook-subscription.js';
import { CLOCK, type Clock } from '../shared/clock.js';

/** terminus' report, with the details Herald's indicators give. */
const indicators = {
  type: 'object',
  properties: {
    database: {
      type: 'object',
      properties: {
        status: { enum: ['up', 'down'] },
        head: { type: 'integer', description: 'The log’s last position.' },
        message: { type: 'string', description: 'Why it is down: `storage unavailable: the database disk is full`, say.' },
        reason: { enum: ['disk-full', 'io-error', 'busy', 'read-only', 'unreachable', 'shutting-down', 'too-many-connections', 'pool-timeout'] },
        since: { type: 'string', format: 'date-time', description: 'When the storage outage began.' },
        refusedCommands: { type: 'integer', description: 'Commands answered 503 since then.' },
        refusedQueries: { type: 'integer', description: 'Queries answered 503 since then.' },
      },
      required: ['status'],
    },
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
 * /health/live: the process answers (a storage outage does not change that: a restart
 * would not help). /health/ready: the database takes a small write, the webhook
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
    private readonly storage: StorageHealth,
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
    summary: 'Readiness: the database takes writes, the webhook subscription keeps up with the log, the dispatcher runs',
    description:
      '503 with the same report when one of them fails (terminus’ shape, not a problem document). During a storage outage (a full disk, a lost database server) ' +
      '`error.database` says why and since when; it turns ready again by itself once a write succeeds.',
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
    // a small write (or one of the last half second): reads alone would not notice a full disk
    const storage = await this.storage.check();
    if (!storage.available) {
      return indicator.down({
        message: `storage unavailable: ${storage.fault!.detail}`,
        reason: storage.fault!.kind,
        since: storage.since,
        refusedCommands: storage.refused!.commands,
        refusedQueries: storage.refused!.queries,
      });
    }
    try {
      return indicator.up({ head: await this.store.head() });
    } catch (error) {
      const fault = storageFault(error);
      return indicator.down(fault ? { message: `storage unavailable: ${fault.detail}`, reason: fault.kind } : { message: `unreachable: ${(error as Error).message}` });
    }
  }

  private async webhooks() {
    const indicator = this.indicators.check('webhooks');
    if (!this.config.webhooks.background) return indicator.up({ background: false });
    if (!this.storage.available) return indicator.down({ message: 'paused while storage is unavailable' });
    let lag: { events: number; seconds: number };
    try {
      lag = await this.subscription.lag(this.clock.now());
    } catch (error) {
      return indicator.down({ message: `the webhook subscription’s lag could not be read: ${(error as Error).message}` });
    }
    const { maxLagEvents, maxLagSeconds } = this.config.readiness;
    const details = { lagEvents: lag.events, lagSeconds: lag.seconds, dispatcher: this.dispatcher.isRunning() ? 'running' : 'stopped' };
    if (!this.dispatcher.isRunning()) return indicator.down({ ...details, message: 'the delivery dispatcher is not running' });
    if (lag.events > maxLagEvents || lag.seconds > maxLagSeconds) {
      return indicator.down({ ...details, message: `the webhook subscription lags the log (at most ${maxLagEvents} events and ${maxLagSeconds} s)` });
    }
    return indicator.up(details);
  }
}
