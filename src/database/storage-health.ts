import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '../shared/clock.js';
import { storageFault, type StorageFault } from './storage-errors.js';

/** Where storage stands, for readiness and metrics. */
export interface StorageStatus {
  available: boolean;
  /** While unavailable: since when (ISO 8601), the last fault seen, and what was refused meanwhile. */
  since?: string;
  fault?: StorageFault;
  refused?: { commands: number; queries: number };
}

/**
 * What background work (the webhook subscription, the delivery dispatcher) needs to know
 * about storage: whether to take work now, whether an error was storage failing (then it
 * pauses quietly: the outage is logged here once), and when to resume.
 */
export interface StorageGate {
  readonly available: boolean;
  isOutage(error: unknown): boolean;
  /** Called once storage is available again after an outage; returns the unsubscribe. */
  onAvailable(listener: () => void): () => void;
}
export const STORAGE_GATE = Symbol('STORAGE_GATE');

/** Probes while unavailable: the first soon, then doubling up to the cap (writes that arrive meanwhile count too). */
const FIRST_PROBE_MS = 100;
const MAX_PROBE_MS = 1000;
/** A readiness check reuses a probe this recent. */
const PROBE_REUSE_MS = 500;
/** While an outage lasts, one line this often says how long and what was refused. */
const PROGRESS_EVERY_MS = 60_000;
/**
 * An outage ends with a write that commits after this long without a failure: at the edge
 * of a full disk a small write may fit where the next comment will not, and the state
 * (readiness, the log) should not flap with each of them.
 */
const QUIET_BEFORE_RECOVERY_MS = 1000;

/**
 * Whether Herald's storage takes writes now: the event store tells it of every COMMIT
 * and of every operation that failed on a storage fault (a full disk, a lost server). It
 * turns them into state changes, each logged once (not once per request), probes with a
 * small write while storage is out (so the outage ends by itself, traffic or not), and
 * tells background work when it may resume.
 */
export class StorageHealth implements StorageGate, OnModuleDestroy {
  private readonly logger = new Logger('Storage');
  private outage: { since: Date; fault: StorageFault; commands: number; queries: number; lastProgress: number; lastFailure: number } | null = null;
  private readonly listeners = new Set<() => void>();
  private probeTimer: NodeJS.Timeout | null = null;
  private probesThisOutage = 0;
  private probing: Promise<void> | null = null;
  private lastProbeEnded = -Infinity; // no probe yet
  private closed = false;
  /** Since the start: outages, and requests refused because of one (the metrics' counters). */
  readonly totals = { outages: 0, commands: 0, queries: 0 };

  constructor(
    private readonly clock: Clock,
    /** A small write on the storage; its outcome reaches `committed` or `failed` through the store. */
    private readonly probe: () => Promise<unknown>,
    private readonly quietBeforeRecoveryMs = QUIET_BEFORE_RECOVERY_MS,
    /** The process's own time in ms (monotonic, not the domain's clock): for the intervals between probes and failures. */
    private readonly elapsedMs: () => number = () => performance.now(),
  ) {}

  get available(): boolean {
    return this.outage === null;
  }

  isOutage(error: unknown): boolean {
    return storageFault(error) !== undefined;
  }

  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): StorageStatus {
    if (!this.outage) return { available: true };
    const { since, fault, commands, queries } = this.outage;
    return { available: false, since: since.toISOString(), fault, refused: { commands, queries } };
  }

  /** A write committed: storage takes writes (once failures have stopped: the probes come back to it). */
  committed(): void {
    if (!this.outage || this.elapsedMs() - this.outage.lastFailure < this.quietBeforeRecoveryMs) return;
    const { since, fault, commands, queries } = this.outage;
    this.outage = null;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    const seconds = Math.round((this.clock.now().getTime() - since.getTime()) / 1000);
    this.logger.log(
      { event: 'storage-available', unavailableSeconds: seconds, reason: fault.kind, refusedCommands: commands, refusedQueries: queries },
      `storage available again after ${seconds} s (${commands} commands and ${queries} queries refused meanwhile)`,
    );
    for (const listener of this.listeners) listener();
  }

  /** An operation failed on a storage fault. */
  failed(fault: StorageFault): void {
    if (this.outage) {
      this.outage.fault = fault;
      this.outage.lastFailure = this.elapsedMs();
      return;
    }
    const since = this.clock.now();
    this.outage = { since, fault, commands: 0, queries: 0, lastProgress: since.getTime(), lastFailure: this.elapsedMs() };
    this.totals.outages++;
    this.probesThisOutage = 0;
    this.logger.warn({ event: 'storage-unavailable', reason: fault.kind, code: fault.code, since: since.toISOString() }, `storage unavailable: ${fault.detail}`);
    this.scheduleProbe();
  }

  /** A request was answered 503 because of an outage; returns the Retry-After to send, in seconds. */
  refused(method: string): number {
    const command = method !== 'GET' && method !== 'HEAD';
    if (command) this.totals.commands++;
    else this.totals.queries++;
    if (this.outage) {
      if (command) this.outage.commands++;
      else this.outage.queries++;
    }
    return this.retryAfterSeconds();
  }

  /** 1 s early in an outage, then a quarter of its length so far, at most 30 s: a long outage is likely to go on. */
  retryAfterSeconds(): number {
    if (!this.outage) return 1;
    const seconds = (this.clock.now().getTime() - this.outage.since.getTime()) / 1000;
    return Math.min(30, Math.max(1, Math.ceil(seconds / 4)));
  }

  /**
   * Readiness: probes with a small write (or reuses a probe of the last half second),
   * waiting at most `waitMs` for it, then says where storage stands.
   */
  async check(waitMs = 1000): Promise<StorageStatus> {
    if (!this.closed) {
      const probe = this.probing ?? (this.elapsedMs() - this.lastProbeEnded < PROBE_REUSE_MS ? null : this.runProbe());
      if (probe) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([probe, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
        clearTimeout(timer);
      }
    }
    return this.status();
  }

  onModuleDestroy(): void {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  /** One probe at a time; its outcome arrives through committed() or failed(). */
  private runProbe(): Promise<void> {
    this.probing ??= this.probe()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.probing = null;
        this.lastProbeEnded = this.elapsedMs();
      });
    return this.probing;
  }

  private scheduleProbe(): void {
    if (!this.outage || this.closed || this.probeTimer) return;
    const delay = Math.min(MAX_PROBE_MS, FIRST_PROBE_MS * 2 ** this.probesThisOutage++);
    const timer = setTimeout(() => {
      void this.runProbe().then(() => {
        // the outage ended meanwhile (and maybe another began, with a timer of its own)
        if (this.probeTimer !== timer) return;
        this.probeTimer = null;
        this.logProgress();
        this.scheduleProbe();
      });
    }, delay);
    timer.unref();
    this.probeTimer = timer;
  }

  private logProgress(): void {
    const outage = this.outage;
    const now = this.clock.now().getTime();
    if (!outage || now - outage.lastProgress < PROGRESS_EVERY_MS) return;
    outage.lastProgress = now;
    const seconds = Math.round((now - outage.since.getTime()) / 1000);
    this.logger.warn(
      { event: 'storage-still-unavailable', unavailableSeconds: seconds, reason: outage.fault.kind, refusedCommands: outage.commands, refusedQueries: outage.queries },
      `storage still unavailable after ${seconds} s: ${outage.fault.detail} (${outage.commands} commands and ${outage.queries} queries refused so far)`,
    );
  }
}
