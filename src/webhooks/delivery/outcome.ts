/**
 * The delivery policy as pure functions (../shared/spec/delivery.md): what becomes of a
 * delivery and of its webhook's health after one attempt, and whether a due delivery may
 * be attempted at all. No I/O, no clock reads, no randomness of their own: the recorder
 * and the dispatcher feed them, and the tests read like the rules.
 */
import type { WebhookConfig } from '../config/webhook.decider.js';
import type { WebhookHealthState } from '../config/webhook.events.js';
import type { Verdict } from '../providers/provider.js';
import { nextAttemptAt, nextHealth } from './health.js';

/** The provider's verdict, or `unsent`: the message could not be built, so nothing reached the endpoint. */
export type AttemptVerdict = Verdict | { kind: 'unsent'; reason: string };

export interface History {
  /** This attempt's number since the delivery was (re)queued: 1 for the first (a redelivery starts over). */
  attempt: number;
  /** The webhook's run of unsuccessful attempts before this one, across all its deliveries. */
  consecutiveFailures: number;
  /** The webhook's health before this attempt. */
  health: WebhookHealthState;
  /** A test message: never retried, and its failure says nothing about the endpoint's health. */
  test: boolean;
  /** A direct message: it goes to the IM app's API, so neither its failure nor its success says anything about the channel's endpoint. */
  direct?: boolean;
}

export interface Schedule {
  /** The delays before each retry: after attempt 1, 2, … */
  delaysMs: readonly number[];
  /** A draw from [0, 1) for the ±20 % jitter. */
  jitter: number;
}

export type HealthChange =
  | { state: 'ACTIVE'; disabledUntil: null; cause: 'attempt-succeeded' | 'test-succeeded'; lastError: null }
  | { state: 'TEMPORARILY_DISABLED' | 'DISABLED'; disabledUntil: Date | null; cause: 'failures' | 'gone'; lastError: string };

export interface Outcome {
  status: 'DELIVERED' | 'RETRYING' | 'FAILED';
  /** When a RETRYING delivery is attempted next; null otherwise. */
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** The webhook's run of unsuccessful attempts after this one. */
  consecutiveFailures: number;
  /** The webhook's new health, when this attempt changes it. */
  health: HealthChange | null;
}

/** What one attempt makes of its delivery and of its webhook's health. */
export function outcome(verdict: AttemptVerdict, history: History, schedule: Schedule, now: Date): Outcome {
  if (history.direct) {
    const delivery = verdict.kind === 'delivered' ? { status: 'DELIVERED' as const, nextAttemptAt: null, lastError: verdict.note ?? null } : afterUnsuccessful(verdict, history, schedule, now);
    return { ...delivery, consecutiveFailures: history.consecutiveFailures, health: null };
  }
  if (verdict.kind === 'delivered') {
    const cause = history.test ? 'test-succeeded' : 'attempt-succeeded';
    return {
      status: 'DELIVERED',
      nextAttemptAt: null,
      // a direct message that fell back to the channel says why
      lastError: verdict.note ?? null,
      consecutiveFailures: 0,
      health: history.health === 'ACTIVE' ? null : { state: 'ACTIVE', disabledUntil: null, cause, lastError: null },
    };
  }
  const delivery = afterUnsuccessful(verdict, history, schedule, now);
  // a test's failure, or a message we could not build (our bug), is no news about the endpoint
  if (verdict.kind === 'unsent' || history.test) return { ...delivery, consecutiveFailures: history.consecutiveFailures, health: null };
  const failures = history.consecutiveFailures + 1;
  const gone = verdict.kind === 'failed' && verdict.disable === true;
  const next = nextHealth(failures, gone, now);
  return {
    ...delivery,
    consecutiveFailures: failures,
    health: next.state === 'ACTIVE' ? null : { state: next.state, disabledUntil: next.disabledUntil, cause: gone ? 'gone' : 'failures', lastError: verdict.reason },
  };
}

/** Whether an attempt (its number since the delivery was (re)queued) is the last the schedule makes. */
export const isLastScheduled = (attempt: number, delaysMs: readonly number[]) => attempt > delaysMs.length;

function afterUnsuccessful(verdict: Exclude<AttemptVerdict, { kind: 'delivered' }>, history: History, schedule: Schedule, now: Date) {
  if (verdict.kind !== 'retry' || history.test) return { status: 'FAILED' as const, nextAttemptAt: null, lastError: verdict.reason };
  const at = nextAttemptAt(history.attempt, schedule.delaysMs, now, () => schedule.jitter, verdict.notBefore);
  if (!at) return { status: 'FAILED' as const, nextAttemptAt: null, lastError: `retries exhausted: ${verdict.reason}` };
  return { status: 'RETRYING' as const, nextAttemptAt: at, lastError: verdict.reason };
}

/** One of several attempts recorded together, in the order they ended. */
export interface Ended {
  webhookId: number;
  projectId: number;
  /** The webhook's health as the attempt found it. */
  health: WebhookHealthState;
  attempt: number;
  test: boolean;
  /** A direct message (see History). */
  direct?: boolean;
  verdict: AttemptVerdict;
  jitter: number;
}

export interface Outcomes {
  outcomes: Outcome[];
  /** Each webhook's run of unsuccessful attempts after them. */
  runs: Map<number, number>;
  /** By project, by webhook: the health change each webhook ends with, and the attempt (its index) that made it. */
  changes: Map<number, Map<number, { change: HealthChange; consecutive: number; index: number }>>;
}

/** Several attempts, each decided with the run and the health the earlier ones left. */
export function outcomesInOrder(attempts: readonly Ended[], runBefore: (webhookId: number) => number, delaysMs: readonly number[], now: Date): Outcomes {
  const runs = new Map<number, number>();
  const health = new Map<number, WebhookHealthState>();
  const changes: Outcomes['changes'] = new Map();
  const outcomes = attempts.map((ended, index) => {
    const history = { attempt: ended.attempt, test: ended.test, direct: ended.direct, consecutiveFailures: runs.get(ended.webhookId) ?? runBefore(ended.webhookId), health: health.get(ended.webhookId) ?? ended.health };
    const result = outcome(ended.verdict, history, { delaysMs, jitter: ended.jitter }, now);
    // a direct message leaves the run where it was (and out of `runs`, when it is all there is)
    if (!ended.direct) runs.set(ended.webhookId, result.consecutiveFailures);
    if (result.health) {
      health.set(ended.webhookId, result.health.state);
      const project = changes.get(ended.projectId) ?? new Map();
      changes.set(ended.projectId, project.set(ended.webhookId, { change: result.health, consecutive: result.consecutiveFailures, index }));
    }
    return result;
  });
  return { outcomes, runs, changes };
}

export type Admission = { kind: 'send' } | { kind: 'hold'; until: Date; reason: string } | { kind: 'skip'; reason: string };

/**
 * Whether a due delivery may be attempted now: a webhook temporarily disabled holds it
 * until its rest ends; one deleted, set inactive or disabled for good skips it (kept for
 * recovery).
 */
export function admission(hook: Pick<WebhookConfig, 'active' | 'health'> | undefined, now: Date): Admission {
  if (!hook) return { kind: 'skip', reason: 'webhook deleted' };
  if (!hook.active) return { kind: 'skip', reason: 'webhook inactive' };
  const { state, disabledUntil, lastError } = hook.health;
  if (state === 'DISABLED') return { kind: 'skip', reason: `webhook disabled: ${lastError ?? 'unhealthy'}` };
  if (state === 'TEMPORARILY_DISABLED' && disabledUntil && Date.parse(disabledUntil) > now.getTime()) {
    return { kind: 'hold', until: new Date(disabledUntil), reason: `webhook temporarily disabled until ${disabledUntil}` };
  }
  return { kind: 'send' };
}
