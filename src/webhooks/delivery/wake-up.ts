import { Injectable } from '@nestjs/common';

/** Lets the scheduler nudge the dispatcher right after new deliveries commit, without depending on it. */
@Injectable()
export class DeliveryWakeUp {
  private listener: (() => void) | null = null;

  onWake(listener: () => void): void {
    this.listener = listener;
  }

  wake(): void {
    this.listener?.();
  }
}
