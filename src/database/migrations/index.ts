import { InitialSchema1764000000000 } from './1764000000000-initial-schema.js';
import { Webhooks1764100000000 } from './1764100000000-webhooks.js';
import { PostgresEngine1764200000000 } from './1764200000000-postgres-engine.js';
import { ReadModelVersions1764300000000 } from './1764300000000-read-model-versions.js';
import { DeliveryInstances1764400000000 } from './1764400000000-delivery-instances.js';
import { ApprovalsAndContacts1764500000000 } from './1764500000000-approvals-and-contacts.js';
import { ReplaysAndCoalescing1764600000000 } from './1764600000000-replays-and-coalescing.js';
import { CoalesceWindows1764700000000 } from './1764700000000-coalesce-windows.js';
import { ReplayProgress1764800000000 } from './1764800000000-replay-progress.js';
import { StartUpChecks1764900000000 } from './1764900000000-start-up-checks.js';
import { ReceiverPace1765000000000 } from './1765000000000-receiver-pace.js';
import { DeliveryTraceContext1765100000000 } from './1765100000000-delivery-trace-context.js';
import { DirectMessages1765200000000 } from './1765200000000-direct-messages.js';
import { PartitionedLog1765400000000 } from './1765400000000-partitioned-log.js';
import { PartitionedDeliveries1765410000000 } from './1765410000000-partitioned-deliveries.js';

/** Every migration, in order. Listed explicitly (no globs) so ESM builds and tests load the same classes. */
export const migrations = [
  InitialSchema1764000000000,
  Webhooks1764100000000,
  PostgresEngine1764200000000,
  ReadModelVersions1764300000000,
  DeliveryInstances1764400000000,
  ApprovalsAndContacts1764500000000,
  ReplaysAndCoalescing1764600000000,
  CoalesceWindows1764700000000,
  ReplayProgress1764800000000,
  StartUpChecks1764900000000,
  ReceiverPace1765000000000,
  DeliveryTraceContext1765100000000,
  DirectMessages1765200000000,
  PartitionedLog1765400000000,
  PartitionedDeliveries1765410000000,
];
