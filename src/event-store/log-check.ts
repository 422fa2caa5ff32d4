import { StartRefused } from '../config/config.js';
import type { RecordedEvent } from './event.js';
import { eventProblem, type EventSchemas } from './event-schema.js';
import { LOG_START, type EventStore, type LogCursor } from './event-store.js';
import { yieldToLoop } from '../shared/time-slice.js';

/** Events read and judged per slice: a few milliseconds of work, then the loop is free again. */
const SLICE = 250;
/** How often a long check stores how far it got (an interrupted first check resumes from there). */
const SAVE_EVERY_MS = 2000;

/** The log holds an event its readers cannot read: Herald refuses to start on it rather than misread it. */
export class NonConformingLogError extends StartRefused {
  override readonly name = 'NonConformingLogError';

  constructor(
    readonly event: RecordedEvent,
    readonly problem: string,
  ) {
    super(
      `the event log holds an event that does not match its schema: position ${event.position} ` +
        `(stream ${event.streamId}, version ${event.version}, ${event.type} schema version ${event.schemaVersion}): ${problem}. ` +
        'Herald does not start on it: restore a backup, or export the log (herald events export), correct that event and import it into a new database',
    );
  }
}

/** What a check did: how many events it judged, of how many after where it started, and why it started there. */
export interface LogCheckResult {
  checked: number;
  /** Where it started: 'the start' of the log, or after the position remembered for this fingerprint. */
  from: 'the start' | `position ${number}`;
  reason: 'first check' | 'schemas or upcasters changed' | 'the log is not the one checked' | 'remembered';
  fingerprint: string;
  durationMs: number;
}

interface CheckRow {
  position: number | string;
  transaction_id: string;
  event_id: string;
  events: number | string;
}

/**
 * The start-up check of the log: every event must match its schema as its readers see it
 * (upcast), or Herald refuses to start, naming the first that does not. It judges each event
 * once per fingerprint of the schemas and upcasters (see logFingerprint): how far it got is
 * kept in log_checks, so a restart reads only the events appended since, whatever the log's
 * size. It reads the log in the subscriptions' order (LogCursor: on PostgreSQL, by transaction
 * id below the oldest running transaction), so no event committed later can land behind the
 * remembered point; an event still hidden by a running transaction is judged at the next start
 * (it was appended by Herald itself, which appends only conforming events). It reads in slices
 * and yields between them.
 */
export class LogCheck {
  constructor(
    private readonly store: EventStore,
    private readonly schemas: EventSchemas,
    private readonly fingerprint: string,
  ) {}

  /** Resolves with what it judged; rejects with NonConformingLogError. onProgress hears of each slice (checked, of about total). */
  async run(onProgress?: (checked: number, total: number) => void): Promise<LogCheckResult> {
    const started = performance.now();
    const { cursor: from, before, reason } = await this.startingPoint();
    const total = await this.store.countAfter(from);
    let cursor = from;
    let last: RecordedEvent | undefined;
    let checked = 0;
    let savedAt = performance.now();
    onProgress?.(0, total);
    for (;;) {
      const { events, cursor: next } = await this.store.readLog(cursor, SLICE);
      if (events.length === 0) break;
      for (const event of events) {
        const problem = eventProblem(event, this.schemas);
        if (problem) {
          // what came before it is judged: a start after the log is mended goes on from there
          if (last) await this.save(last, before + checked);
          throw new NonConformingLogError(event, problem);
        }
        last = event;
        checked++;
      }
      cursor = next;
      onProgress?.(checked, Math.max(total, checked));
      if (performance.now() - savedAt > SAVE_EVERY_MS) {
        await this.save(last!, before + checked);
        savedAt = performance.now();
      }
      await yieldToLoop();
    }
    if (last) await this.save(last, before + checked);
    return {
      checked,
      from: from.position === 0 ? 'the start' : `position ${from.position}`,
      reason,
      fingerprint: this.fingerprint,
      durationMs: Math.round(performance.now() - started),
    };
  }

  /** After the event remembered for this fingerprint, if the log still holds it there; else the log's start. */
  private async startingPoint(): Promise<{ cursor: LogCursor; before: number; reason: LogCheckResult['reason'] }> {
    const row = await this.store.queryOne<CheckRow>(`SELECT position, transaction_id, event_id, events FROM log_checks WHERE fingerprint = ?`, [this.fingerprint]);
    if (!row) {
      const other = await this.store.queryOne(`SELECT 1 FROM log_checks`);
      return { cursor: LOG_START, before: 0, reason: other ? 'schemas or upcasters changed' : 'first check' };
    }
    const there = await this.store.queryOne<{ event_id: string }>(`SELECT event_id FROM events WHERE position = ?`, [Number(row.position)]);
    if (there?.event_id !== row.event_id) return { cursor: LOG_START, before: 0, reason: 'the log is not the one checked' };
    return { cursor: { transactionId: String(row.transaction_id), position: Number(row.position) }, before: Number(row.events), reason: 'remembered' };
  }

  /** Remembers the check up to this event; never moves back (another instance may have got further). */
  private async save(event: RecordedEvent, events: number): Promise<void> {
    await this.store.transact(
      (tx) =>
        tx.exec([
          {
            sql: `INSERT INTO log_checks (fingerprint, position, transaction_id, event_id, events, checked_at) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT (fingerprint) DO UPDATE SET position = excluded.position, transaction_id = excluded.transaction_id,
                    event_id = excluded.event_id, events = excluded.events, checked_at = excluded.checked_at
                  WHERE log_checks.transaction_id < excluded.transaction_id
                     OR (log_checks.transaction_id = excluded.transaction_id AND log_checks.position < excluded.position)`,
            params: [this.fingerprint, event.position, event.transactionId ?? '0', event.eventId, events, tx.now.toISOString()],
          },
        ]),
      // a power cut may undo it: those events are judged again at the next start
      { durable: false },
    );
  }
}
