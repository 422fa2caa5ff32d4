import { admission, outcome, outcomesInOrder, type AttemptVerdict, type Ended, type History, type Outcome } from '../../../src/webhooks/delivery/outcome.js';

/* The rules of ../shared/spec/delivery.md, one by one: given the webhook's and the delivery's history, when an attempt ends with this verdict, then this. */

const now = new Date('2026-03-01T10:00:00.000Z');
const plus = (ms: number) => new Date(now.getTime() + ms);
const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
/** The default schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
const SCHEDULE = [5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H];

const delivered: AttemptVerdict = { kind: 'delivered' };
const retry = (reason = 'HTTP 500', notBefore?: Date): AttemptVerdict => ({ kind: 'retry', reason, ...(notBefore ? { notBefore } : {}) });
const failed = (reason = 'HTTP 400'): AttemptVerdict => ({ kind: 'failed', reason });
const gone: AttemptVerdict = { kind: 'failed', reason: 'HTTP 410: gone', disable: true };

function given(history: Partial<History> = {}, jitter = 0.5) {
  const past: History = { attempt: 1, consecutiveFailures: 0, health: 'ACTIVE', test: false, ...history };
  return {
    when: (verdict: AttemptVerdict) => ({
      then: (expected: Partial<Outcome>) => expect(outcome(verdict, past, { delaysMs: SCHEDULE, jitter }, now)).toMatchObject(expected),
    }),
  };
}

describe('one delivery', () => {
  it('is DELIVERED when the provider says so', () =>
    given().when(delivered).then({ status: 'DELIVERED', nextAttemptAt: null, lastError: null }));

  it('FAILS at once on a permanent verdict: only retry verdicts are retried', () =>
    given({ attempt: 1 }).when(failed('HTTP 400: bad request')).then({ status: 'FAILED', nextAttemptAt: null, lastError: 'HTTP 400: bad request' }));
});

describe('retries', () => {
  it.each(SCHEDULE.map((delay, i) => [i + 1, delay]))('after unsuccessful attempt %i, it is RETRYING %i ms later', (attempt, delay) =>
    given({ attempt }).when(retry()).then({ status: 'RETRYING', nextAttemptAt: plus(delay), lastError: 'HTTP 500' }));

  it('spreads each delay by ±20 % jitter', () => {
    given({ attempt: 2 }, 0).when(retry()).then({ nextAttemptAt: plus(0.8 * 5 * MIN) });
    given({ attempt: 2 }, 0.75).when(retry()).then({ nextAttemptAt: plus(1.1 * 5 * MIN) });
  });

  it('FAILS after the last scheduled retry (8 attempts over about 27.6 h)', () =>
    given({ attempt: 8 }).when(retry('HTTP 503')).then({ status: 'FAILED', nextAttemptAt: null, lastError: 'retries exhausted: HTTP 503' }));

  it('waits for a Retry-After later than the schedule', () =>
    given({ attempt: 1 }).when(retry('HTTP 429', plus(2 * MIN))).then({ status: 'RETRYING', nextAttemptAt: plus(2 * MIN) }));

  it('never retries earlier than the schedule because of a Retry-After', () =>
    given({ attempt: 2 }).when(retry('HTTP 429', plus(1 * S))).then({ nextAttemptAt: plus(5 * MIN) }));

  it('never waits more than 24 h, whatever the provider asks', () =>
    given({ attempt: 1 }).when(retry('HTTP 429', plus(48 * H))).then({ nextAttemptAt: plus(24 * H) }));

  it('starts the schedule over after a manual redelivery (the attempt counts from the requeue)', () =>
    given({ attempt: 1, consecutiveFailures: 2 }).when(retry()).then({ status: 'RETRYING', nextAttemptAt: plus(5 * S) }));
});

describe('unhealthy endpoints', () => {
  it('counts every unsuccessful attempt, retry or failed, across all its deliveries', () => {
    given({ consecutiveFailures: 0 }).when(retry()).then({ consecutiveFailures: 1, health: null });
    given({ consecutiveFailures: 1 }).when(failed()).then({ consecutiveFailures: 2, health: null });
  });

  it('leaves the webhook ACTIVE below 4 consecutive failures', () =>
    given({ consecutiveFailures: 2 }).when(retry()).then({ consecutiveFailures: 3, health: null }));

  it('disables the webhook for 1 min after 4 consecutive failures', () =>
    given({ consecutiveFailures: 3 })
      .when(retry('HTTP 502'))
      .then({ consecutiveFailures: 4, health: { state: 'TEMPORARILY_DISABLED', disabledUntil: plus(1 * MIN), cause: 'failures', lastError: 'HTTP 502' } }));

  it.each([
    [5, 2 * MIN],
    [6, 4 * MIN],
    [10, 64 * MIN],
    [15, 24 * H],
    [39, 24 * H],
  ])('rests 1 min × 2^(n−4), at most 24 h: after %i failures, %i ms', (n, rest) =>
    given({ consecutiveFailures: n - 1, health: 'TEMPORARILY_DISABLED' }).when(retry()).then({ consecutiveFailures: n, health: expect.objectContaining({ state: 'TEMPORARILY_DISABLED', disabledUntil: plus(rest) }) }));

  it('disables the webhook until someone re-enables it after 40 consecutive failures', () =>
    given({ consecutiveFailures: 39, health: 'TEMPORARILY_DISABLED' }).when(retry()).then({ consecutiveFailures: 40, health: expect.objectContaining({ state: 'DISABLED', disabledUntil: null, cause: 'failures' }) }));

  it('disables the webhook at once when the endpoint is gone (410)', () =>
    given({ consecutiveFailures: 0 }).when(gone).then({ status: 'FAILED', health: { state: 'DISABLED', disabledUntil: null, cause: 'gone', lastError: 'HTTP 410: gone' } }));

  it('resets the count with one success', () => given({ consecutiveFailures: 3 }).when(delivered).then({ consecutiveFailures: 0, health: null }));

  it('makes a resting webhook ACTIVE again with one success', () =>
    given({ consecutiveFailures: 5, health: 'TEMPORARILY_DISABLED' }).when(delivered).then({ consecutiveFailures: 0, health: { state: 'ACTIVE', disabledUntil: null, cause: 'attempt-succeeded', lastError: null } }));
});

describe('a message that could not be built', () => {
  it('FAILS at once, and says nothing about the endpoint (nothing reached it)', () =>
    given({ consecutiveFailures: 3 })
      .when({ kind: 'unsent', reason: 'could not render the message: boom' })
      .then({ status: 'FAILED', nextAttemptAt: null, lastError: 'could not render the message: boom', consecutiveFailures: 3, health: null }));
});

describe('the test message', () => {
  it('is never retried', () => given({ test: true }).when(retry('HTTP 500')).then({ status: 'FAILED', nextAttemptAt: null }));

  it('does not count against the webhook when it fails', () =>
    given({ test: true, consecutiveFailures: 3 }).when(retry()).then({ consecutiveFailures: 3, health: null }));

  it('re-enables a disabled webhook when it succeeds', () =>
    given({ test: true, consecutiveFailures: 40, health: 'DISABLED' }).when(delivered).then({ status: 'DELIVERED', consecutiveFailures: 0, health: expect.objectContaining({ state: 'ACTIVE', cause: 'test-succeeded' }) }));
});

describe('attempts recorded together', () => {
  const ended = (webhookId: number, verdict: AttemptVerdict, rest: Partial<Ended> = {}): Ended => ({ webhookId, projectId: 1, health: 'ACTIVE', attempt: 1, test: false, verdict, jitter: 0.5, ...rest });

  it('decides each with the run and the health the earlier ones left, and keeps the last health change of each webhook', () => {
    // webhook 1 had 2 failures; three more end together, then a success. Webhook 2 fails once.
    const { outcomes, runs, changes } = outcomesInOrder(
      [ended(1, retry()), ended(2, retry()), ended(1, retry()), ended(1, retry()), ended(1, delivered)],
      (id) => (id === 1 ? 2 : 0),
      SCHEDULE,
      now,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['RETRYING', 'RETRYING', 'RETRYING', 'RETRYING', 'DELIVERED']);
    expect(outcomes.map((o) => o.health?.state ?? null)).toEqual([null, null, 'TEMPORARILY_DISABLED', 'TEMPORARILY_DISABLED', 'ACTIVE']);
    expect(outcomes[3].health).toMatchObject({ disabledUntil: plus(2 * MIN) }); // the fifth failure: 2 min
    expect(Object.fromEntries(runs)).toEqual({ 1: 0, 2: 1 });
    // the webhook ends ACTIVE: that is the one change to decide (against its state then)
    expect(changes.get(1)?.get(1)).toEqual({ change: expect.objectContaining({ state: 'ACTIVE', cause: 'attempt-succeeded' }), consecutive: 0, index: 4 });
    expect(changes.get(1)?.has(2)).toBe(false);
  });
});

describe('whether a due delivery is attempted', () => {
  const hook = (health: { state: 'ACTIVE' | 'TEMPORARILY_DISABLED' | 'DISABLED'; disabledUntil?: string | null; lastError?: string | null }, active = true) => ({
    active,
    health: { disabledUntil: null, lastError: null, ...health },
  });

  it('sends it when the webhook is healthy', () => expect(admission(hook({ state: 'ACTIVE' }), now)).toEqual({ kind: 'send' }));

  it('HOLDS it while the webhook rests, until the rest ends', () =>
    expect(admission(hook({ state: 'TEMPORARILY_DISABLED', disabledUntil: plus(MIN).toISOString() }), now)).toEqual({
      kind: 'hold',
      until: plus(MIN),
      reason: `webhook temporarily disabled until ${plus(MIN).toISOString()}`,
    }));

  it('sends it again once the rest has ended (the probe)', () =>
    expect(admission(hook({ state: 'TEMPORARILY_DISABLED', disabledUntil: now.toISOString() }), now)).toEqual({ kind: 'send' }));

  it('SKIPS it while the webhook is disabled for good, saying why', () =>
    expect(admission(hook({ state: 'DISABLED', lastError: 'HTTP 410: gone' }), now)).toEqual({ kind: 'skip', reason: 'webhook disabled: HTTP 410: gone' }));

  it('SKIPS it when the webhook was set inactive or deleted', () => {
    expect(admission(hook({ state: 'ACTIVE' }, false), now)).toEqual({ kind: 'skip', reason: 'webhook inactive' });
    expect(admission(undefined, now)).toEqual({ kind: 'skip', reason: 'webhook deleted' });
  });
});

describe('a direct message (it goes to the IM app’s API, not to the webhook’s endpoint)', () => {
  it('retries on its own schedule and leaves the webhook’s run of failures and its health alone', () =>
    given({ attempt: 3, consecutiveFailures: 3, direct: true }).when(retry('Slack: internal_error')).then({ status: 'RETRYING', consecutiveFailures: 3, health: null }));

  it('does not reset the run when it goes, nor bring back a webhook at rest', () =>
    given({ consecutiveFailures: 5, health: 'TEMPORARILY_DISABLED', direct: true }).when(delivered).then({ status: 'DELIVERED', consecutiveFailures: 5, health: null }));

  it('in a batch, moves neither run nor health while the channel’s failures still add up', () => {
    const at = (verdict: AttemptVerdict, direct: boolean): Ended => ({ webhookId: 1, projectId: 1, health: 'ACTIVE', attempt: 1, test: false, direct, verdict, jitter: 0.5 });
    const { outcomes, runs } = outcomesInOrder([at(retry(), false), at(delivered, true), at(retry(), false), at(retry(), true)], () => 2, SCHEDULE, now);
    expect(outcomes.map((o) => o.consecutiveFailures)).toEqual([3, 3, 4, 4]);
    expect(runs.get(1)).toBe(4);
  });
});
