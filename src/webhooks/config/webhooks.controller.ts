import { Body, Controller, Delete, Get, HttpCode, Logger, Param, Patch, Post, Query } from '@nestjs/common';
import { IdParam } from '../../shared/id-param.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RedeliverResult } from '../../contract/deliveries.js';
import type { WebhookCreatedView } from '../../contract/webhooks.js';
import { ApiProblem } from '../../shared/openapi.js';
import type { Metadata } from '../../event-store/aggregate-store.js';
import { Actor } from '../../http/request-context.js';
import { AdminOnly, ForProject } from '../../shared/route-access.js';
import { CreateWebhookDto, ListDeliveriesQueryDto, RecoverDto, UpdateWebhookDto } from './webhook.dto.js';
import {
  AcceptedSchema,
  DeliveryDetailSchema,
  DeliveryPageSchema,
  RecoverResultSchema,
  ResealResultSchema,
  TestResultSchema,
  WebhookCreatedSchema,
  WebhookSchema,
  WebhookUrlSchema,
} from './webhook.schemas.js';
import { RecoverCommand, RedeliverCommand, TestWebhookCommand } from '../delivery/delivery-operations.js';
import { CreateWebhookCommand, DeleteWebhookCommand, ResealWebhookSecretsCommand, UpdateWebhookCommand } from './webhook.commands.js';
import { GetDeliveryQuery, GetWebhookQuery, ListDeliveriesQuery, ListWebhooksQuery, RevealWebhookUrlQuery } from './webhook.queries.js';
import { parseRangeEnd } from '../replay/replay-range.js';
import { ReplayCommand } from '../replay/replay.cqrs.js';

const Id = IdParam;

/** DEVELOPERs may list and read webhooks (URLs masked) and their delivery log; OWNERs manage them and read request bodies. */
@ApiTags('webhooks')
@Controller('api/projects/:projectId/webhooks')
@ForProject('member')
export class WebhooksController {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ForProject('owner')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a webhook' })
  @ApiCreatedResponse({ type: WebhookCreatedSchema })
  @ApiProblem(
    409,
    'Another webhook of the project already posts to this URL; or the project has as many webhooks as `HERALD_MAX_WEBHOOKS_PER_PROJECT` allows (100 by default): the detail says the cap and how to raise it.',
  )
  async create(@Id('projectId') projectId: number, @Body() body: CreateWebhookDto, @Actor() actor: Metadata): Promise<WebhookCreatedView> {
    // a backfill's start is checked before anything is created
    if (body.backfillFrom !== undefined) parseRangeEnd(body.backfillFrom, 'backfillFrom');
    const hook = await this.commands.execute(new CreateWebhookCommand(projectId, body, actor));
    if (body.backfillFrom === undefined) return hook;
    // it runs in the background: the answer names it, its progress says how far it is
    const replay = await this.commands.execute(new ReplayCommand(projectId, hook.id, { from: body.backfillFrom }, actor));
    return { ...hook, backfill: { replayId: replay.id } };
  }

  @Get()
  @ApiOperation({ summary: 'List a project’s webhooks (URLs masked)' })
  @ApiOkResponse({ type: [WebhookSchema] })
  list(@Id('projectId') projectId: number) {
    return this.queries.execute(new ListWebhooksQuery(projectId));
  }

  @Get(':webhookId')
  @ApiOperation({ summary: 'Read a webhook (URL masked) with its health' })
  @ApiOkResponse({ type: WebhookSchema })
  get(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.queries.execute(new GetWebhookQuery(projectId, webhookId));
  }

  /** The URL in clear, for its managers: every call is recorded in the log (not as an event) with who asked. */
  @Get(':webhookId/url')
  @ForProject('owner')
  @ApiOperation({ summary: 'The webhook’s URL in clear (each call is logged with who asked)' })
  @ApiOkResponse({ type: WebhookUrlSchema })
  revealUrl(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Actor() actor: Metadata) {
    this.logger.log({ projectId, webhookId, actorId: actor.actorId }, 'webhook URL revealed');
    return this.queries.execute(new RevealWebhookUrlQuery(projectId, webhookId));
  }

  @Patch(':webhookId')
  @ForProject('owner')
  @ApiOperation({ summary: 'Change a webhook; `active: true` re-enables one its health disabled' })
  @ApiOkResponse({ type: WebhookSchema })
  @ApiProblem(409, 'Another webhook of the project already posts to this URL.')
  update(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Body() body: UpdateWebhookDto, @Actor() actor: Metadata) {
    return this.commands.execute(new UpdateWebhookCommand(projectId, webhookId, body, actor));
  }

  @Delete(':webhookId')
  @ForProject('owner')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook (its pending deliveries are dropped)' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  async remove(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Actor() actor: Metadata) {
    await this.commands.execute(new DeleteWebhookCommand(projectId, webhookId, actor));
  }

  @Post(':webhookId/test')
  @ForProject('owner')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a test message now and say how it went', description: 'A success re-enables a webhook its health had disabled.' })
  @ApiOkResponse({ type: TestResultSchema })
  test(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.commands.execute(new TestWebhookCommand(projectId, webhookId));
  }

  @Get(':webhookId/deliveries')
  @ApiOperation({ summary: 'The webhook’s deliveries, newest first' })
  @ApiOkResponse({ type: DeliveryPageSchema })
  deliveries(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Query() query: ListDeliveriesQueryDto) {
    return this.queries.execute(new ListDeliveriesQuery(projectId, webhookId, query.status, query.limit ?? 50, query.cursor));
  }

  @Get(':webhookId/deliveries/:deliveryId')
  @ForProject('owner')
  @ApiOperation({ summary: 'One delivery with every attempt: request sent, response got, verdict' })
  @ApiOkResponse({ type: DeliveryDetailSchema })
  delivery(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Param('deliveryId') deliveryId: string) {
    return this.queries.execute(new GetDeliveryQuery(projectId, webhookId, deliveryId));
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @ForProject('owner')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again (same delivery id, the retry schedule starts over)' })
  @ApiAcceptedResponse({ type: AcceptedSchema })
  @ApiProblem(409, 'The delivery is being attempted right now, or it is a test message.')
  async redeliver(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Param('deliveryId') deliveryId: string): Promise<RedeliverResult> {
    await this.commands.execute(new RedeliverCommand(projectId, webhookId, deliveryId));
    return { accepted: true };
  }

  @Post(':webhookId/recover')
  @ForProject('owner')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue again every FAILED or SKIPPED delivery since a time' })
  @ApiAcceptedResponse({ type: RecoverResultSchema })
  recover(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Body() body: RecoverDto) {
    return this.commands.execute(new RecoverCommand(projectId, webhookId, new Date(body.since)));
  }
}

/** Key rotation (admins): seal every webhook credential again under the current HERALD_SECRET_KEY. */
@ApiTags('admin')
@Controller('api/admin/secrets')
@AdminOnly()
export class SecretsAdminController {
  constructor(private readonly commands: CommandBus) {}

  @Post('reseal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Seal every webhook credential again under the current HERALD_SECRET_KEY (key rotation)' })
  @ApiOkResponse({ type: ResealResultSchema })
  reseal(@Actor() actor: Metadata) {
    return this.commands.execute(new ResealWebhookSecretsCommand(actor));
  }
}
