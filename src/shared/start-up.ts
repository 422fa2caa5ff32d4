import { Injectable } from '@nestjs/common';

/** What the start-up is doing, and how far it got (events, when it reads the log). */
export interface StartUpProgress {
  phase: string;
  done: number;
  total: number;
}

/**
 * Herald listens before its start-up work is done (the check of the log, a rebuild of read
 * models built by an older version: work that a big log makes long), so /health/live answers
 * throughout and /health/ready says how far it got. Until the gate opens, other requests are
 * answered 503 and the background work (the webhook subscription, the dispatcher, the
 * retention sweep) waits.
 */
@Injectable()
export class StartUpGate {
  private progress: StartUpProgress = { phase: 'starting', done: 0, total: 0 };
  private opened = false;
  private readonly waiting: (() => void)[] = [];

  get isOpen(): boolean {
    return this.opened;
  }

  get status(): StartUpProgress {
    return { ...this.progress };
  }

  report(phase: string, done = 0, total = 0): void {
    this.progress = { phase, done, total };
  }

  /** Runs fn once the gate opens (at once if it is open). */
  whenOpen(fn: () => void): void {
    if (this.opened) fn();
    else this.waiting.push(fn);
  }

  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.progress = { phase: 'started', done: 0, total: 0 };
    for (const fn of this.waiting.splice(0)) fn();
  }
}

/** For a service built without the gate (a test's own): starts at once. */
export const IMMEDIATELY: Pick<StartUpGate, 'whenOpen'> = { whenOpen: (fn) => fn() };
