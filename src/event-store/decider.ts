import type { DomainEvent, Evolving } from './event.js';

/** What every decision may know besides the command and the state: when, and who asks. */
export interface DeciderContext {
  now: Date;
  actorId: number;
}

/**
 * The one shape of every aggregate's decision logic (pure: no I/O, no clock reads):
 * decide(command, state, context) -> events, or a DomainError; evolve(state, event) -> state.
 * The same functions serve commands, replays and the given/when/then tests.
 */
export interface Decider<Command, Event extends DomainEvent, State, Context extends DeciderContext = DeciderContext> {
  initialState: State;
  evolve(state: State, event: Evolving<Event>): State;
  decide(command: Command, state: State, context: Context): Event[];
}
