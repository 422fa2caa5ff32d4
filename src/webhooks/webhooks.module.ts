import { Logger, Module } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '../config/config.js';
import { Coalescer } from './coalesce/coalescer.js';
import { WindowMarks } from './coalesce/window-marks.js';
import { WebhookDirectory } from './config/webhook-directory.js';
import { WebhookDecisionsController } from './decisions/decisions.controller.js';
import { GetIssueDecisionsHandler } from './decisions/decisions.query.js';
import { ReplayController } from './replay/replay.controller.js';
import { ReplayProgressReader } from './replay/replay-progress.js';
import { ReplayRunner } from './replay/replay-runner.js';
import { ReplayedActivities } from './replay/replayed-activity.js';
import { GetReplayHandler, PreviewReplayHandler, ReplayHandler } from './replay/replay.cqrs.js';
import { WebhookTypesController } from './config/webhook-types.controller.js';
import { SecretsAdminController, WebhooksController } from './config/webhooks.controller.js';
import { CreateWebhookHandler, DeleteWebhookHandler, ResealWebhookSecretsHandler, UpdateWebhookHandler } from './config/webhook.commands.js';
import { GetDeliveryHandler, GetWebhookHandler, ListDeliveriesHandler, ListWebhooksHandler, RevealWebhookUrlHandler } from './config/webhook.queries.js';
import { RecoverHandler, RedeliverHandler, TestWebhookHandler } from './delivery/delivery-operations.js';
import { AttemptMaker, WEBHOOK_HTTP } from './delivery/attempt.js';
import { CHANNEL_SENDER, InProcessChannelSender } from './delivery/channel-send.js';
import { SendingThreads } from './delivery/sending-threads.js';
import { InlineWhenQuiet } from './delivery/inline-when-quiet.js';
import { DeliveryDispatcher } from './delivery/dispatcher.js';
import { InstanceHeartbeat } from './delivery/heartbeat.js';
import { ThisInstance } from './delivery/instance.js';
import { DeliveryQueue } from './delivery/queue.js';
import { DeliveryRecorder } from './delivery/recorder.js';
import { DeliveryRetention } from './delivery/retention.js';
import { DeliveryPartitions } from './delivery/delivery-partitions.js';
import { SharedPace } from './delivery/shared-pace.js';
import { TestMessage } from './delivery/test-message.js';
import { WebhookHttpClient } from './http/http-client.js';
import { ScheduleWebhookDeliveriesHandler, WebhookSagas } from './subscription/schedule-deliveries.js';
import { WebhookSubscription } from './subscription/webhook-subscription.js';
import { WebhookOperations } from './webhook-operations.js';
import { FilterTrialController } from './filters/filter-trial.controller.js';
import { TryFilterHandler } from './filters/filter-trial.query.js';
import { ListImAppsHandler, RemoveImAppHandler, SetImAppHandler } from './direct-messages/im-app.commands.js';
import { DirectMessageSender } from './direct-messages/dm-sender.js';
import { ImAppsController, ImAppTypesController } from './direct-messages/im-apps.controller.js';

@Module({
  controllers: [ImAppsController, ImAppTypesController, WebhooksController, WebhookTypesController, SecretsAdminController, WebhookDecisionsController, ReplayController, FilterTrialController],
  providers: [
    {
      provide: WEBHOOK_HTTP,
      inject: [HERALD_CONFIG],
      // as many connections to one origin (say hooks.slack.com) as attempts may be in flight at once
      useFactory: (config: HeraldConfig) =>
        new WebhookHttpClient({ allowedCidrs: config.webhooks.allowedCidrs, timeoutMs: config.webhooks.timeoutMs, connectionsPerOrigin: config.webhooks.concurrency }),
    },
    {
      provide: CHANNEL_SENDER,
      inject: [HERALD_CONFIG, WEBHOOK_HTTP],
      // channel messages are rendered, signed and sent beside the service's thread (WEBHOOK_THREADS; 0: on it),
      // except a lone one in flight, which goes on it (InlineWhenQuiet)
      useFactory: (config: HeraldConfig, http: WebhookHttpClient) => {
        const { threads, allowedCidrs, timeoutMs, concurrency } = config.webhooks;
        const here = new InProcessChannelSender(http);
        if (threads === 0) return here;
        const logger = new Logger('SendingThreads');
        const pool = new SendingThreads(threads, { allowedCidrs, timeoutMs, connectionsPerOrigin: Math.ceil(concurrency / threads) }, here, (problem) =>
          logger.error({ threads }, problem),
        );
        return new InlineWhenQuiet(here, pool);
      },
    },
    ThisInstance,
    WebhookDirectory,
    DeliveryQueue,
    InstanceHeartbeat,
    AttemptMaker,
    DirectMessageSender,
    DeliveryRecorder,
    DeliveryDispatcher,
    SharedPace,
    DeliveryRetention,
    DeliveryPartitions,
    TestMessage,
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
    WebhookOperations,
    GetIssueDecisionsHandler,
    ReplayRunner,
    ReplayedActivities,
    ReplayProgressReader,
    ReplayHandler,
    PreviewReplayHandler,
    GetReplayHandler,
    Coalescer,
    WindowMarks,
    TryFilterHandler,
    SetImAppHandler,
    RemoveImAppHandler,
    ListImAppsHandler,
  ],
  exports: [DeliveryDispatcher, DeliveryRetention, WebhookSubscription],
})
export class WebhooksModule {}
