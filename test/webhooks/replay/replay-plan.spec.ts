import { DELIVERY_STATUSES } from '../../../src/webhooks/delivery/deliveries.js';
import { parseRangeEnd, replayAction, sends } from '../../../src/webhooks/replay/replay-plan.js';

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

describe('the ends of a replay’s range', () => {
  it('reads a position or an ISO time', () => {
    expect(parseRangeEnd('position:120', 'from')).toEqual({ kind: 'position', position: 120 });
    expect(parseRangeEnd('2026-03-01T10:00:00+01:00', 'from')).toEqual({ kind: 'time', at: '2026-03-01T09:00:00.000Z' });
  });

  it.each(['yesterday', 'position:', 'position:-1', '2026-03-01', '2026-13-01T00:00:00Z'])('refuses %j, naming the field', (value) =>
    expect(() => parseRangeEnd(value, 'backfillFrom')).toThrow(expect.objectContaining({ kind: 'invalid', errors: [expect.objectContaining({ field: 'backfillFrom' })] })));
});
