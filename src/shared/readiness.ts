import { Injectable } from '@nestjs/common';

/** What one readiness check found: up or down, and the details /health/ready shows under its name. */
export interface ReadinessReport {
  up: boolean;
  details: Record<string, unknown>;
}

/**
 * The readiness checks beyond storage, registered by the layers that know what "keeping up"
 * means for them (the webhook subscription and dispatcher); /health/ready runs them in the
 * order they were registered.
 */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, () => Promise<ReadinessReport>>();

  register(name: string, check: () => Promise<ReadinessReport>): void {
    if (this.checks.has(name)) throw new Error(`a readiness check named ${name} is registered already`);
    this.checks.set(name, check);
  }

  entries(): [name: string, check: () => Promise<ReadinessReport>][] {
    return [...this.checks];
  }
}
