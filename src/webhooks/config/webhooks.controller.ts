import { Body, Controller, Delete, Get, HttpCode, Logger, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Metadata } from '../../event-store/aggregate-store.js';
import { Actor } from '../../shared/request-context.js';
import { AdminOnly, ForProject } from '../../users/auth.guard.js';
import { CreateWebhookDto, ListDeliveriesQueryDto, RecoverDto, UpdateWebhookDto } from './webhook.dto.js';
import {
  CreateWebhookCommand,
  DeleteWebhookCommand,
  GetDeliveryQuery,
  GetWebhookQuery,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  RecoverCommand,
  RedeliverCommand,
  ResealWebhookSecretsCommand,
  RevealWebhookUrlQuery,
  TestWebhookCommand,
  UpdateWebhookCommand,
} from './webhooks.cqrs.js';

const Id = (name: string) => Param(name, ParseIntPipe);

/** DEVELOPERs may list and read webhooks (URLs masked) and their delivery log; OWNERs manage them and read request bodies. */
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
  create(@Id('projectId') projectId: number, @Body() body: CreateWebhookDto, @Actor() actor: Metadata) {
    return this.commands.execute(new CreateWebhookCommand(projectId, body, actor));
  }

  @Get()
  list(@Id('projectId') projectId: number) {
    return this.queries.execute(new ListWebhooksQuery(projectId));
  }

  @Get(':webhookId')
  get(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.queries.execute(new GetWebhookQuery(projectId, webhookId));
  }

  /** The URL in clear, for its managers: every call is recorded in the log (not as an event) with who asked. */
  @Get(':webhookId/url')
  @ForProject('owner')
  revealUrl(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Actor() actor: Metadata) {
    this.logger.log({ projectId, webhookId, actorId: actor.actorId }, 'webhook URL revealed');
    return this.queries.execute(new RevealWebhookUrlQuery(projectId, webhookId));
  }

  @Patch(':webhookId')
  @ForProject('owner')
  update(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Body() body: UpdateWebhookDto, @Actor() actor: Metadata) {
    return this.commands.execute(new UpdateWebhookCommand(projectId, webhookId, body, actor));
  }

  @Delete(':webhookId')
  @ForProject('owner')
  @HttpCode(204)
  async remove(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Actor() actor: Metadata) {
    await this.commands.execute(new DeleteWebhookCommand(projectId, webhookId, actor));
  }

  @Post(':webhookId/test')
  @ForProject('owner')
  @HttpCode(200)
  test(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number) {
    return this.commands.execute(new TestWebhookCommand(projectId, webhookId));
  }

  @Get(':webhookId/deliveries')
  deliveries(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Query() query: ListDeliveriesQueryDto) {
    return this.queries.execute(new ListDeliveriesQuery(projectId, webhookId, query.status, query.limit ?? 50, query.cursor));
  }

  @Get(':webhookId/deliveries/:deliveryId')
  @ForProject('owner')
  delivery(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Param('deliveryId') deliveryId: string) {
    return this.queries.execute(new GetDeliveryQuery(projectId, webhookId, deliveryId));
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @ForProject('owner')
  @HttpCode(202)
  async redeliver(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Param('deliveryId') deliveryId: string) {
    await this.commands.execute(new RedeliverCommand(projectId, webhookId, deliveryId));
    return { accepted: true };
  }

  @Post(':webhookId/recover')
  @ForProject('owner')
  @HttpCode(202)
  recover(@Id('projectId') projectId: number, @Id('webhookId') webhookId: number, @Body() body: RecoverDto) {
    return this.commands.execute(new RecoverCommand(projectId, webhookId, new Date(body.since)));
  }
}

/** Key rotation (admins): seal every webhook credential again under the current HERALD_SECRET_KEY. */
@Controller('api/admin/secrets')
@AdminOnly()
export class SecretsAdminController {
  constructor(private readonly commands: CommandBus) {}

  @Post('reseal')
  @HttpCode(200)
  reseal(@Actor() actor: Metadata) {
    return this.commands.execute(new ResealWebhookSecretsCommand(actor));
  }
}
