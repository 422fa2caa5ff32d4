import type { Decider, DeciderContext } from '../../src/event-store/decider.js';
import type { DomainEvent, Evolving } from '../../src/event-store/event.js';
import { DomainError } from '../../src/shared/errors.js';

export const NOW = new Date('2026-03-01T10:00:00.000Z');
export const ACTOR = 2;

/** An event of the history, done by another actor than ACTOR (approvals are decided by their approvers). */
export const by = <E extends DomainEvent>(actorId: number, event: E): E => ({ ...event, actorId }) as E;

/** An event of the history as evolve reads it: at NOW, by ACTOR unless by() said otherwise. */
function recorded<E extends DomainEvent>(e: E): Evolving<E> {
  const { actorId = ACTOR, ...event } = e as E & { actorId?: number };
  return { ...(event as unknown as E), occurredAt: NOW.toISOString(), metadata: { actorId } };
}

/**
 * given(history).when(command).then(events) for any decider: the history is folded with its
 * evolve, the command decided on the result, with the context at NOW by ACTOR unless the
 * test says otherwise.
 */
export function specification<C, E extends DomainEvent, S, X extends DeciderContext>(decider: Decider<C, E, S, X>, defaults: Omit<X, keyof DeciderContext>) {
  const fold = (history: E[]) => history.reduce((state, event) => decider.evolve(state, recorded(event)), decider.initialState);
  return (...history: E[]) => ({
    /** The state the history folds to. */
    state: () => fold(history),
    when(command: C, context: Partial<X> = {}) {
      const run = () => decider.decide(command, fold(history), { now: NOW, actorId: ACTOR, ...defaults, ...context } as X);
      return {
        then(expected: E[]) {
          expect(run()).toEqual(expected);
        },
        /** The command changes nothing: no event. */
        thenNothingHappened() {
          expect(run()).toEqual([]);
        },
        thenThrows(kind: DomainError['kind'], message?: RegExp) {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(DomainError);
          expect((caught as DomainError).kind).toBe(kind);
          if (message) expect((caught as DomainError).message).toMatch(message);
        },
        events: run,
      };
    },
  });
}
