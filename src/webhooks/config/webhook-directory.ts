import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Evolving, RecordedEvent } from '../../event-store/event.js';
import { EventStore, type LogCursor } from '../../event-store/event-store.js';
import { yieldToLoop } from '../../shared/time-slice.js';
import { evolveWebhooks, type WebhookConfig, type Webhooks } from './webhook.decider.js';
import type { WebhookEvent } from './webhook.events.js';
import { configOf, type WebhookRow } from './webhook.projection.js';

/**
 * Every webhook's configuration and health, in memory on every instance, kept current
 * by following the log (each change is an event on its project's stream): the
 * dispatcher reads no configuration per delivery. Loaded from the read model once, then
 * stepped by every webhook event after that point of the log, read when the log has
 * moved (this instance's commits and, on PostgreSQL, the others' NOTIFY; at least once a
 * second). Replaying an event it has already seen leaves the same state: each one sets
 * what it changes.
 */
@Injectable()
export class WebhookDirectory implements OnModuleDestroy {
  private static readonly SLICE = 500;
  /** Read the log at least this often even without a signal (a NOTIFY can be missed). */
  private static readonly POLL_MS = 1_000;
  private readonly projects = new Map<number, Webhooks>();
  private readonly hooks = new Map<number, WebhookConfig>();
  /** The webhooks' runs of unsuccessful attempts as this instance last recorded or read them (a hint: the table decides). */
  private readonly failures = new Map<number, number>();
  private cursor: LogCursor | null = null;
  private behind = true;
  private lastRead = 0;
  private reading: Promise<void> | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: EventStore) {
    this.unsubscribe = store.onLogAdvanced(() => (this.behind = true));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The webhook as of the latest log this instance can read; one it has not met yet is read from the read model. */
  async get(webhookId: number): Promise<WebhookConfig | undefined> {
    await this.catchUp();
    const known = this.hooks.get(webhookId);
    if (known) return known;
    // created by an event this instance cannot read yet (PostgreSQL: an older transaction still runs), or deleted
    const row = await this.store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ?`, [webhookId]);
    if (!row) return undefined;
    const hook = configOf(row);
    this.put(hook.projectId, { ...(this.projects.get(hook.projectId) ?? {}), [hook.id]: hook });
    return hook;
  }

  /**
   * The webhook as last committed (its read-model row), whatever this instance has read of the log:
   * for a decision that cannot be undone, such as skipping its deliveries. On PostgreSQL the log is
   * read only up to the oldest transaction still running, so a change just committed (a webhook set
   * active again, its deliveries requeued) may not have come round yet.
   */
  async committed(webhookId: number): Promise<WebhookConfig | undefined> {
    const row = await this.store.queryOne<WebhookRow>(`SELECT * FROM rm_webhooks WHERE id = ?`, [webhookId]);
    return row ? configOf(row) : undefined;
  }

  /** The last known run of unsuccessful attempts of a webhook. */
  failuresOf(webhookId: number): number {
    return this.failures.get(webhookId) ?? 0;
  }

  noteFailures(webhookId: number, consecutive: number): void {
    this.failures.set(webhookId, consecutive);
  }

  /** Steps the webhooks of the events' projects (also for events this instance has just appended, before the log brings them round). */
  apply(events: readonly RecordedEvent[]): void {
    for (const event of events) {
      if (!event.streamId.startsWith('project-') || !event.type.startsWith('webhook.')) continue;
      const projectId = Number(event.streamId.slice('project-'.length));
      this.put(projectId, evolveWebhooks(this.projects.get(projectId) ?? {}, event as unknown as Evolving<WebhookEvent>));
    }
  }

  /** Reads the log if it moved since the last read (or a while has passed). */
  async catchUp(): Promise<void> {
    if (this.cursor && !this.behind && Date.now() - this.lastRead < WebhookDirectory.POLL_MS) return;
    this.reading ??= this.read().finally(() => (this.reading = null));
    await this.reading;
  }

  private async read(): Promise<void> {
    // a signal arriving while this runs asks for another read
    this.behind = false;
    this.cursor ??= await this.load();
    for (;;) {
      const { events, cursor } = await this.store.readLog(this.cursor, WebhookDirectory.SLICE);
      this.apply(events);
      this.cursor = cursor;
      if (events.length < WebhookDirectory.SLICE) break;
      // a long stretch of the log (an import meanwhile): others get the loop between slices
      await yieldToLoop();
    }
    this.lastRead = Date.now();
  }

  /** The read model as of a point of the log (taken first: events after it are applied again, harmlessly). */
  private async load(): Promise<LogCursor> {
    const cursor = await this.store.headCursor();
    const byProject = new Map<number, Record<number, WebhookConfig>>();
    for (const hook of (await this.store.query<WebhookRow>(`SELECT * FROM rm_webhooks`)).map(configOf)) {
      byProject.set(hook.projectId, { ...(byProject.get(hook.projectId) ?? {}), [hook.id]: hook });
    }
    for (const [projectId, webhooks] of byProject) this.put(projectId, webhooks);
    for (const row of await this.store.query<{ webhook_id: number; consecutive: number }>(`SELECT webhook_id, consecutive FROM webhook_failures`)) {
      this.failures.set(Number(row.webhook_id), Number(row.consecutive));
    }
    return cursor;
  }

  private put(projectId: number, webhooks: Webhooks): void {
    for (const id of Object.keys(this.projects.get(projectId) ?? {})) this.hooks.delete(Number(id));
    this.projects.set(projectId, webhooks);
    for (const hook of Object.values(webhooks)) this.hooks.set(hook.id, hook);
  }
}
