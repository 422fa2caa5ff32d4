import { Logger, type LoggerService } from '@nestjs/common';
import type { StorageFault } from '../../src/database/storage-errors.js';
import { StorageHealth } from '../../src/database/storage-health.js';
import { ManualClock } from '../../src/shared/clock.js';

const DISK_FULL: StorageFault = { kind: 'disk-full', detail: 'the database disk is full', code: 'SQLITE_FULL' };

/** What Nest's loggers write, as (level, message, fields). */
class CapturedLogs implements LoggerService {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  private add(level: string, message: unknown, params: unknown[]) {
    // Nest's Logger calls with (fields, message, context) when given an object first
    if (typeof message === 'object' && message !== null) this.lines.push({ level, message: String(params[0]), fields: message as Record<string, unknown> });
    else this.lines.push({ level, message: String(message), fields: {} });
  }
  log(message: unknown, ...params: unknown[]) {
    this.add('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.add('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.add('error', message, params);
  }
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('StorageHealth: storage state from the store’s outcomes', () => {
  let logs: CapturedLogs;
  let clock: ManualClock;
  /** Each probe's outcome, as the store would report it. */
  let storageBack: boolean;
  let probes: number;
  /** When each probe ran (performance.now()). */
  let probedAt: number[];
  let health: StorageHealth;

  beforeEach(() => {
    logs = new CapturedLogs();
    Logger.overrideLogger(logs);
    clock = new ManualClock('2026-03-01T10:00:00.000Z');
    storageBack = false;
    probes = 0;
    probedAt = [];
    health = new StorageHealth(clock, probe, 0);
  });

  /** A probe as the store runs it: its outcome reaches the health through committed() or failed(). */
  async function probe(): Promise<void> {
    probes++;
    probedAt.push(performance.now());
    if (storageBack) health.committed();
    else {
      health.failed(DISK_FULL);
      throw new Error('probe failed');
    }
  }

  afterEach(() => {
    health.onModuleDestroy();
    Logger.overrideLogger(false);
  });

  it('logs one line when an outage starts and one when it ends, whatever the number of failures and refusals', () => {
    expect(health.available).toBe(true);
    health.failed(DISK_FULL);
    for (let i = 0; i < 50; i++) {
      health.failed(DISK_FULL);
      health.refused(i % 5 === 0 ? 'GET' : 'POST');
    }
    expect(health.available).toBe(false);
    expect(health.status()).toEqual({ available: false, since: '2026-03-01T10:00:00.000Z', fault: DISK_FULL, refused: { commands: 40, queries: 10 } });
    clock.advance(41_000);
    health.committed();
    health.committed();
    expect(health.available).toBe(true);
    expect(health.status()).toEqual({ available: true });
    expect(logs.lines.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'storage unavailable: the database disk is full'],
      ['info', 'storage available again after 41 s (40 commands and 10 queries refused meanwhile)'],
    ]);
    expect(logs.lines[1].fields).toMatchObject({ event: 'storage-available', unavailableSeconds: 41, reason: 'disk-full', refusedCommands: 40, refusedQueries: 10 });
    expect(health.totals).toEqual({ outages: 1, commands: 40, queries: 10 });
  });

  it('says once a minute, while an outage lasts, how long it has lasted and what it refused', async () => {
    health.failed(DISK_FULL);
    health.refused('POST');
    await until(() => probes >= 1, 'a probe');
    expect(logs.lines).toHaveLength(1);
    clock.advance(61_000);
    await until(() => logs.lines.length === 2, 'the progress line');
    expect(logs.lines[1]).toMatchObject({
      level: 'warn',
      message: 'storage still unavailable after 61 s: the database disk is full (1 commands and 0 queries refused so far)',
      fields: { event: 'storage-still-unavailable', unavailableSeconds: 61 },
    });
  });

  it('asks clients to wait 1 s early in an outage, longer as it lasts, at most 30 s', () => {
    health.failed(DISK_FULL);
    expect(health.refused('POST')).toBe(1);
    clock.advance(20_000);
    expect(health.refused('POST')).toBe(5);
    clock.advance(3_600_000);
    expect(health.refused('POST')).toBe(30);
  });

  it('probes with a small write, backing off, and ends the outage by itself when a probe commits', async () => {
    const resumed: number[] = [];
    health.onAvailable(() => resumed.push(probes));
    const started = performance.now();
    health.failed(DISK_FULL);
    // at least 2.5 s of real timers: a bound of twelve times that for a busy machine
    await until(() => probes >= 5, 'five probes', 30_000);
    // 100 ms, then twice as long each time, at most a second (timers fire late under load, never early)
    const gaps = probedAt.map((at, i) => at - (probedAt[i - 1] ?? started));
    [100, 200, 400, 800, 1000].forEach((least, i) => expect(gaps[i]).toBeGreaterThanOrEqual(least - 5));
    expect(health.available).toBe(false);
    storageBack = true;
    await until(() => health.available, 'the outage to end', 30_000);
    // the listeners hear it once
    expect(resumed).toHaveLength(1);
    // no probing while available: a probe still scheduled would come within the longest interval between probes
    // (a second), and its timer, set before this wait's and shorter, would fire first however late both are
    const probesThen = probes;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(probes).toBe(probesThen);
  });

  it('ends an outage only once failures have stopped for a while: a write that fits between two that fail does not end it', async () => {
    health = new StorageHealth(clock, probe, 300);
    health.failed(DISK_FULL);
    health.committed();
    health.failed(DISK_FULL);
    health.committed();
    expect(health.available).toBe(false);
    expect(logs.lines).toHaveLength(1);
    // no failure since: the probes end it
    storageBack = true;
    await until(() => health.available, 'the outage to end', 30_000);
    expect(logs.lines.map((l) => l.fields.event)).toEqual(['storage-unavailable', 'storage-available']);
  });

  it('readiness probes (at most one at a time, reused for half a second) and reports the outcome', async () => {
    let elapsed = 0; // the process's own time, moved by hand
    health = new StorageHealth(clock, probe, 0, () => elapsed);
    const first = health.check();
    const second = health.check();
    expect(await first).toMatchObject({ available: false, fault: DISK_FULL });
    expect(await second).toMatchObject({ available: false });
    expect(probes).toBe(1);
    storageBack = true;
    elapsed += 499;
    expect((await health.check()).available).toBe(false); // the probe of the last half second
    expect(probes).toBe(1);
    elapsed += 1;
    expect(await health.check()).toEqual({ available: true });
    expect(probes).toBe(2);
  });

  it('a readiness check waits for a slow probe only so long', async () => {
    let probeEnded = false;
    let endProbe!: () => void;
    const slow = new StorageHealth(clock, () => new Promise<void>((resolve) => (endProbe = resolve)).then(() => void (probeEnded = true)));
    const started = performance.now();
    // the probe never ends by itself: the check answers after its wait (timers fire late, never early)
    expect(await slow.check(100)).toEqual({ available: true });
    expect(probeEnded).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    endProbe();
    slow.onModuleDestroy();
  });
});
