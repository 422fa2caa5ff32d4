import { DELIVERY_STATUSES } from '../../../src/webhooks/delivery/deliveries.js';
import { replayAction, sends } from '../../../src/webhooks/replay/replay-plan.js';

/* A replay: given the delivery an event already has for the webhook, when replayed (with or without includeDelivered), then this. */

describe('what a replay does with each event', () => {
  it('creates the delivery an event never had', () => expect(replayAction(undefined, false)).toBe('insert'));

  it('leaves what was delivered (alone or within a coalesced message) unless asked to send it again', () => {
    expect(replayAction('DELIVERED', false)).toBe('already-delivered');
    expect(replayAction('COALESCED', false)).toBe('already-delivered');
    expect(replayAction('DELIVERED', true)).toBe('requeue');
    expect(replayAction('COALESCED', true)).toBe('requeue');
  });

  it('queues again what never arrived', () => {
    expect(replayAction('FAILED', false)).toBe('requeue');
    expect(replayAction('SKIPPED', false)).toBe('requeue');
  });

  it('leaves what is on its way (it goes anyway, and is not sent twice)', () => {
    for (const status of ['PENDING', 'DELIVERING', 'RETRYING', 'HELD'] as const) expect(replayAction(status, true)).toBe('on-its-way');
  });

  it('counts and lists exactly what it sends', () =>
    expect(DELIVERY_STATUSES.filter((s) => sends(replayAction(s, false)))).toEqual(['FAILED', 'SKIPPED']));
});
