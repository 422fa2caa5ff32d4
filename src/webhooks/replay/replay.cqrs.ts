import { randomBytes } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { HERALD_CONFIG, type HeraldConfig } from '../../config/config.js';
import type { ReplayItem, ReplayPreview, ReplayProgress, ReplayRequest } from '../../contract/replays.js';
import type { Metadata } from '../../event-store/aggregate-store.js';
import { EventStore } from '../../event-store/event-store.js';
import { CLOCK, type Clock } from '../../shared/clock.js';
import { notFound } from '../../shared/errors.js';
import { TimeSlice } from '../../shared/time-slice.js';
import { normalizeActivityType } from '../activity.js';
import type { WebhookConfig } from '../config/webhook.decider.js';
import { configOf, type WebhookRow } from '../config/webhook.projection.js';
import { planPage, type Planned } from './replay-deliveries.js';
import { ReplayProgressReader } from './replay-progress.js';
import { assertRangeOrder, parseRangeEnd, type RangeEnd } from './replay-range.js';
import { ReplayRunner } from './replay-runner.js';
import { PREVIEW_PAGE, readRangePage, ReplayScan, type ReplayRules } from './replay-scan.js';

/** A replay's request, preview and progress are the API's (contract/replays.ts). */
export type { ReplayItem, ReplayPreview, ReplayProgress, ReplayRequest };

/** Events a dry run reads at most per request (about a second and a half of scanning on the bench machine). */
export const DRY_RUN_EVENTS = 100_000;
const ITEMS = 100;

/** A replay's request made concrete: the webhook, the rules it decides by, the range as positions (empty: last < first). */
interface Resolved {
  hook: WebhookConfig;
  rules: ReplayRules;
  first: number;
  last: number;
}

/** Checks a request and resolves its range; 400 for ends that are no instant or out of order, 404 for a webhook not of the project. */
async function resolve(store: EventStore, projectId: number, webhookId: number, request: ReplayRequest): Promise<Resolved> {
  const from = parseRangeEnd(request.from, 'from');
  const to = request.to !== undefined ? parseRangeEnd(request.to, 'to') : undefined;
  const row = await store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ? AND project_id = ?`, [webhookId, projectId]);
  if (!row) throw notFound('webhook', webhookId);
  const hook = configOf(row);
  const rules = { activityTypes: request.activityTypes ? [...new Set(request.activityTypes.map(normalizeActivityType))] : hook.activityTypes, filter: hook.filter ?? null };
  const first = Math.max(1, await position(store, from, 'from'));
  const head = await store.head();
  const end = to ? await position(store, to, 'to') : head;
  assertRangeOrder(from, to, first, end);
  const last = Math.min(end, head);
  // nothing in the range: a start right after its end
  return { hook, rules, first: Math.min(first, last + 1), last };
}

/** A range end as a position of the log (from: the first event at or after a time; to: the last at or before it). */
async function position(store: EventStore, end: RangeEnd, which: 'from' | 'to'): Promise<number> {
  if (end.kind === 'position') return end.position;
  const row = await store.queryOne<{ p: number | null }>(
    which === 'from' ? `SELECT MIN(position) AS p FROM events WHERE occurred_at >= ?` : `SELECT MAX(position) AS p FROM events WHERE occurred_at <= ?`,
    [end.at],
  );
  return row?.p === null || row?.p === undefined ? (which === 'from' ? Number.MAX_SAFE_INTEGER : 0) : Number(row.p);
}

export class ReplayCommand extends Command<ReplayProgress> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly request: ReplayRequest, readonly metadata: Metadata) {
    super();
  }
}

/**
 * Replays the log to one webhook: every activity of the range that passes the webhook's
 * rules (its provider, filter and activity types, or the types asked for), mapped as it
 * was at its event, is delivered under its stable id (deliveryId(event, webhook)), in the
 * log's order, at the provider's pace. An event already delivered to the webhook is left
 * alone unless asked for again. The range is read in the background (ReplayRunner): this
 * records the replay and answers at once with its progress.
 */
@CommandHandler(ReplayCommand)
export class ReplayHandler implements ICommandHandler<ReplayCommand> {
  constructor(
    private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly runner: ReplayRunner,
    private readonly progress: ReplayProgressReader,
  ) {}

  async execute({ projectId, webhookId, request, metadata }: ReplayCommand): Promise<ReplayProgress> {
    const { rules, first, last } = await resolve(this.store, projectId, webhookId, request);
    const id = `rpl_${randomBytes(12).toString('hex')}`;
    const now = this.clock.now().getTime();
    const empty = last < first;
    await this.store.transact((tx) =>
      tx.exec([
        {
          sql: `INSERT INTO webhook_replays (id, webhook_id, project_id, from_position, to_position, request, count, actor_id, created_at, scanned_to, state, rules, owner, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)`,
          params: [id, webhookId, projectId, first, last, JSON.stringify(request), metadata.actorId, now, first - 1, empty ? 'queued' : 'scanning', JSON.stringify(rules), empty ? null : this.runner.ownerId, now],
        },
      ]),
    );
    if (!empty) this.runner.run(id);
    return this.progress.read(projectId, webhookId, id);
  }
}

export class PreviewReplayQuery extends Query<ReplayPreview> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly request: ReplayRequest) {
    super();
  }
}

/**
 * A dry run: what a real run would send, sending nothing. It reads at most DRY_RUN_EVENTS
 * events of the range, giving the loop a turn as it goes, and says how far it read and
 * where to go on from, so one request stays bounded however big the range.
 */
@QueryHandler(PreviewReplayQuery)
export class PreviewReplayHandler implements IQueryHandler<PreviewReplayQuery> {
  constructor(
    private readonly store: EventStore,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  async execute({ projectId, webhookId, request }: PreviewReplayQuery): Promise<ReplayPreview> {
    const { hook, rules, first, last } = await resolve(this.store, projectId, webhookId, request);
    const budget = new TimeSlice(TimeSlice.SHORT_MS);
    const scan = new ReplayScan(this.store, this.config, projectId, hook, rules, budget);
    await scan.start();
    let count = 0;
    const items: ReplayItem[] = [];
    let after = first - 1;
    for (let read = 0; after < last && read < DRY_RUN_EVENTS; ) {
      const { events, scannedTo } = await readRangePage(this.store, after, last, PREVIEW_PAGE);
      const planned = await planPage(this.store, await scan.next(events), webhookId, request.includeDelivered === true);
      count += planned.length;
      for (const p of planned) if (items.length < ITEMS) items.push(item(p));
      read += events.length;
      after = scannedTo;
      await budget.pause();
    }
    const complete = after >= last;
    return { count, items, fromPosition: first, toPosition: last, scannedTo: after, complete, next: complete ? null : `position:${after + 1}` };
  }
}

const item = (p: Planned): ReplayItem => ({
  eventId: p.event.eventId,
  position: p.event.position,
  activityType: p.activity.type,
  title: p.activity.title,
  issueId: p.activity.issue?.id ?? null,
  createdTs: p.activity.createdTs,
  alreadyDelivered: p.existing === 'DELIVERED' || p.existing === 'COALESCED',
});

export class GetReplayQuery extends Query<ReplayProgress> {
  constructor(readonly projectId: number, readonly webhookId: number, readonly replayId: string) {
    super();
  }
}

@QueryHandler(GetReplayQuery)
export class GetReplayHandler implements IQueryHandler<GetReplayQuery> {
  constructor(private readonly progress: ReplayProgressReader) {}

  execute({ projectId, webhookId, replayId }: GetReplayQuery): Promise<ReplayProgress> {
    return this.progress.read(projectId, webhookId, replayId);
  }
}
