import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { SqliteEventStore } from '../event-store/sqlite-event-store.js';
import { Public } from '../users/auth.guard.js';
import { DeliveryDispatcher } from '../webhooks/delivery/dispatcher.js';
import { WebhookSubscription } from '../webhooks/subscription/webhook-subscription.js';
import { CLOCK, type Clock } from './clock.js';

interface Reply {
  status(code: number): Reply;
}

/**
 * /health/live: the process answers. /health/ready: the database answers, the webhook
 * subscription keeps up with the log, and the dispatcher runs (terminus' report shape).
 */
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: SqliteEventStore,
    private readonly subscription: WebhookSubscription,
    private readonly dispatcher: DeliveryDispatcher,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
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

  private database() {
    const indicator = this.indicators.check('database');
    try {
      return indicator.up({ head: this.store.head() });
    } catch (error) {
      return indicator.down({ message: `unreachable: ${(error as Error).message}` });
    }
  }

  private webhooks() {
    const indicator = this.indicators.check('webhooks');
    if (!this.config.webhooks.background) return indicator.up({ background: false });
    const lag = this.subscription.lag(this.clock.now());
    const { maxLagEvents, maxLagSeconds } = this.config.readiness;
    const details = { lagEvents: lag.events, lagSeconds: lag.seconds, dispatcher: this.dispatcher.isRunning() ? 'running' : 'stopped' };
    if (!this.dispatcher.isRunning()) return indicator.down({ ...details, message: 'the delivery dispatcher is not running' });
    if (lag.events > maxLagEvents || lag.seconds > maxLagSeconds) {
      return indicator.down({ ...details, message: `the webhook subscription lags the log (at most ${maxLagEvents} events and ${maxLagSeconds} s)` });
    }
    return indicator.up(details);
  }
}
