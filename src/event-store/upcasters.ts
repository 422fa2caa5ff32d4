import type { DomainEvent } from './event.js';

/** Turns the stored shape of (type, schemaVersion) into the shape of schemaVersion + 1. */
export type Upcaster = (data: any) => unknown;

/**
 * Old event shapes are upgraded on read, one version step at a time, so the log is
 * never rewritten and deciders and projections only know the current shapes.
 */
export class UpcasterRegistry {
  private readonly steps = new Map<string, Upcaster>();

  register(type: string, fromVersion: number, upcast: Upcaster): this {
    const key = `${type}@${fromVersion}`;
    if (this.steps.has(key)) throw new Error(`an upcaster for ${key} is already registered`);
    this.steps.set(key, upcast);
    return this;
  }

  /** Every step as `type@version: source`, in a stable order (the start-up check's fingerprint reads it). */
  describe(): string[] {
    return [...this.steps].map(([key, step]) => `${key}: ${step.toString()}`).sort();
  }

  get isEmpty(): boolean {
    return this.steps.size === 0;
  }

  upcast<E extends Pick<DomainEvent, 'type' | 'schemaVersion' | 'data'>>(event: E): E {
    let current = event;
    for (;;) {
      const step = this.steps.get(`${current.type}@${current.schemaVersion}`);
      if (!step) return current;
      current = { ...current, schemaVersion: current.schemaVersion + 1, data: step(current.data) };
    }
  }
}
