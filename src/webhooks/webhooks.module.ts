import { Module } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { WebhookTypesController } from './config/webhook-types.controller.js';
import { SecretsAdminController, WebhooksController } from './config/webhooks.controller.js';
import {
  CreateWebhookHandler,
  DeleteWebhookHandler,
  GetDeliveryHandler,
  GetWebhookHandler,
  ListDeliveriesHandler,
  ListWebhooksHandler,
  RecoverHandler,
  RedeliverHandler,
  ResealWebhookSecretsHandler,
  RevealWebhookUrlHandler,
  TestWebhookHandler,
  UpdateWebhookHandler,
} from './config/webhooks.cqrs.js';
import { DeliveryDispatcher, WEBHOOK_HTTP } from './delivery/dispatcher.js';
import { WebhookHttpClient } from './delivery/http-client.js';
import { DeliveryWakeUp } from './delivery/wake-up.js';
import { ScheduleWebhookDeliveriesHandler, WebhookSagas } from './subscription/schedule-deliveries.js';
import { WebhookSubscription } from './subscription/webhook-subscription.js';

@Module({
  controllers: [WebhooksController, WebhookTypesController, SecretsAdminController],
  providers: [
    DeliveryWakeUp,
    {
      provide: WEBHOOK_HTTP,
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) => new WebhookHttpClient({ allowedCidrs: config.webhooks.allowedCidrs, timeoutMs: config.webhooks.timeoutMs }),
    },
    DeliveryDispatcher,
    WebhookSubscription,
    WebhookSagas,
    ScheduleWebhookDeliveriesHandler,
    CreateWebhookHandler,
    UpdateWebhookHandler,
    DeleteWebhookHandler,
    TestWebhookHandler,
    RedeliverHandler,
    RecoverHandler,
    ResealWebhookSecretsHandler,
    RevealWebhookUrlHandler,
    ListWebhooksHandler,
    GetWebhookHandler,
    ListDeliveriesHandler,
    GetDeliveryHandler,
  ],
  exports: [DeliveryDispatcher, WebhookSubscription],
})
export class WebhooksModule {}
