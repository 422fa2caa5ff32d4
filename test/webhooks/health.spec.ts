import { nextAttemptAt, nextHealth } from '../../src/webhooks/delivery/health.js';

const now = new Date('2026-03-01T10:00:00.000Z');
const plus = (ms: number) => new Date(now.getTime() + ms);

describe('endpoint health', () => {
  it.each([
    [1, 'ACTIVE', null],
    [3, 'ACTIVE', null],
    [4, 'TEMPORARILY_DISABLED', plus(60_000)],
    [5, 'TEMPORARILY_DISABLED', plus(120_000)],
    [10, 'TEMPORARILY_DISABLED', plus(64 * 60_000)],
    [20, 'TEMPORARILY_DISABLED', plus(24 * 3_600_000)],
    [39, 'TEMPORARILY_DISABLED', plus(24 * 3_600_000)],
    [40, 'DISABLED', null],
  ])('after %i consecutive failures: %s', (failures, state, until) => {
    expect(nextHealth(failures, false, now)).toEqual({ state, disabledUntil: until });
  });

  it('disables at once when the endpoint is gone', () => {
    expect(nextHealth(1, true, now)).toEqual({ state: 'DISABLED', disabledUntil: null });
  });
});

describe('retry times', () => {
  const schedule = [5_000, 300_000, 1_800_000];
  it('follows the schedule with ±20 % jitter', () => {
    expect(nextAttemptAt(1, schedule, now, () => 0.5)).toEqual(plus(5_000));
    expect(nextAttemptAt(2, schedule, now, () => 0)).toEqual(plus(240_000));
    expect(nextAttemptAt(2, schedule, now, () => 1)).toEqual(plus(360_000));
  });
  it('stops after the last step', () => {
    expect(nextAttemptAt(4, schedule, now, () => 0.5)).toBeNull();
  });
  it('lets a provider wait move it later, never earlier, and never past 24 h', () => {
    expect(nextAttemptAt(1, schedule, now, () => 0.5, plus(60_000))).toEqual(plus(60_000));
    expect(nextAttemptAt(2, schedule, now, () => 0.5, plus(1_000))).toEqual(plus(300_000));
    expect(nextAttemptAt(1, schedule, now, () => 0.5, plus(48 * 3_600_000))).toEqual(plus(24 * 3_600_000));
  });
});
