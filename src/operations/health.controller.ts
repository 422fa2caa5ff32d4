import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { storageFault } from '../database/storage-errors.js';
import { StorageHealth } from '../database/storage-health.js';
import { EventStore } from '../event-store/event-store.js';
import { Public } from '../shared/route-access.js';
import { Readiness, type ReadinessReport } from '../shared/readiness.js';
import { StartUpGate } from '../shared/start-up.js';
import { WEBHOOKS_READINESS_SCHEMA } from '../webhooks/webhook-operations.js';

/** terminus' report, with the details Herald's indicators give. */
const indicators = {
  type: 'object',
  properties: {
    startUp: {
      type: 'object',
      description: 'Down until the start-up work is done (the check of the log appended since the last start, a rebuild of read models built by an older version).',
      properties: {
        status: { enum: ['up', 'down'] },
        phase: { type: 'string', description: '`checking the event log`, `rebuilding the read models: …`.' },
        done: { type: 'integer', description: 'How far it got (events).' },
        total: { type: 'integer', description: 'Of about how many.' },
        message: { type: 'string' },
      },
      required: ['status'],
    },
    database: {
      type: 'object',
      properties: {
        status: { enum: ['up', 'down'] },
        head: { type: 'integer', description: 'The log’s last position.' },
        message: { type: 'string', description: 'Why it is down: `storage unavailable: the database disk is full`, say.' },
        reason: { enum: ['disk-full', 'io-error', 'busy', 'read-only', 'unreachable', 'shutting-down', 'too-many-connections', 'pool-timeout', 'no-partition'] },
        since: { type: 'string', format: 'date-time', description: 'When the storage outage began.' },
        refusedCommands: { type: 'integer', description: 'Commands answered 503 since then.' },
        refusedQueries: { type: 'integer', description: 'Queries answered 503 since then.' },
      },
      required: ['status'],
    },
    webhooks: WEBHOOKS_READINESS_SCHEMA,
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
 * would not help; it answers while Herald starts too). /health/ready: the start-up work is
 * done, the database takes a small write, the webhook subscription keeps up with the log,
 * and the dispatcher runs (terminus' report shape).
 */
@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: EventStore,
    private readonly storage: StorageHealth,
    @Inject(Readiness) private readonly readiness: Readiness,
    private readonly startUp: StartUpGate,
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
    summary: 'Readiness: started, the database takes writes, the webhook subscription keeps up with the log, the dispatcher runs',
    description:
      '503 with the same report when one of them fails (terminus’ shape, not a problem document). During a storage outage (a full disk, a lost database server) ' +
      '`error.database` says why and since when; it turns ready again by itself once a write succeeds.',
  })
  async ready(@Res({ passthrough: true }) reply: Reply) {
    try {
      return await this.health.check([() => this.started(), () => this.database(), ...this.readiness.entries().map(([name, check]) => () => this.registered(name, check))]);
    } catch (error) {
      // terminus' own report, not a problem document: load balancers and operators read it as is
      if (error instanceof HttpException) {
        reply.status(error.getStatus());
        return error.getResponse();
      }
      throw error;
    }
  }

  /** Herald listens while it starts: not ready until the start-up work is done, saying how far it got. */
  private started() {
    const indicator = this.indicators.check('startUp');
    if (this.startUp.isOpen) return indicator.up();
    const { phase, done, total } = this.startUp.status;
    return indicator.down({ phase, done, total, message: `starting: ${phase}${total > 0 ? ` (${done} of ${total})` : ''}` });
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

  /** A check a feature registered (the webhooks' subscription and dispatcher). */
  private async registered(name: string, check: () => Promise<ReadinessReport>) {
    const { up, details } = await check();
    const indicator = this.indicators.check(name);
    return up ? indicator.up(details) : indicator.down(details);
  }
}
