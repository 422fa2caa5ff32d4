import { assertRangeOrder, parseRangeEnd } from '../../../src/webhooks/replay/replay-range.js';

const refused = (field: string, message: RegExp) => expect.objectContaining({ kind: 'invalid', errors: [{ field, message: expect.stringMatching(message) }] });

describe('the ends of a replay’s range', () => {
  it('reads a position or an ISO time', () => {
    expect(parseRangeEnd('position:120', 'from')).toEqual({ kind: 'position', position: 120 });
    expect(parseRangeEnd('2026-03-01T10:00:00+01:00', 'from')).toEqual({ kind: 'time', at: '2026-03-01T09:00:00.000Z' });
    expect(parseRangeEnd('2024-02-29T23:59:59.999Z', 'to')).toEqual({ kind: 'time', at: '2024-02-29T23:59:59.999Z' });
    expect(parseRangeEnd('2026-12-31T00:00Z', 'to')).toEqual({ kind: 'time', at: '2026-12-31T00:00:00.000Z' });
  });

  it.each(['yesterday', 'position:', 'position:-1', '2026-03-01', '2026-3-01T00:00:00Z', '2026-03-01T00:00:00'])('refuses %j, naming the field', (value) =>
    expect(() => parseRangeEnd(value, 'backfillFrom')).toThrow(refused('backfillFrom', /ISO time/)));

  // Date.parse moves these to another instant (2 March, the next midnight): they are no time at all
  it.each([
    ['2026-02-30T00:00:00Z', /no day 30 in 2026-02 \(it has 28 days\)/],
    ['2026-02-29T12:00:00Z', /no day 29 in 2026-02/],
    ['2100-02-29T12:00:00Z', /no day 29 in 2100-02/],
    ['2026-04-31T00:00:00Z', /no day 31 in 2026-04 \(it has 30 days\)/],
    ['2026-03-00T00:00:00Z', /no day 0/],
    ['2026-13-01T00:00:00Z', /no month 13/],
    ['2026-03-01T24:00:00Z', /no hour 24/],
    ['2026-03-01T24:00Z', /no hour 24/],
    ['2026-03-01T12:60:00Z', /no minute 60/],
    ['2026-03-01T12:00:60Z', /no second 60/],
    ['2026-03-01T12:00:00+24:00', /offset/],
  ])('refuses %j, saying which part is impossible', (value, why) => expect(() => parseRangeEnd(value, 'from')).toThrow(refused('from', why)));
});

describe('the order of a replay’s range', () => {
  const at = (iso: string) => parseRangeEnd(iso, 'x');
  const position = (n: number) => parseRangeEnd(`position:${n}`, 'x');

  it('refuses a start after the end, naming from: positions and times as given', () => {
    expect(() => assertRangeOrder(position(1_000_000), position(1), 1_000_000, 1)).toThrow(refused('from', /must not be after to/));
    expect(() => assertRangeOrder(at('2026-03-02T00:00:00Z'), at('2026-03-01T00:00:00Z'), 10, 20)).toThrow(refused('from', /must not be after to/));
  });

  it('takes a range that holds nothing (two times with no event between them), and a range of one', () => {
    expect(() => assertRangeOrder(at('2026-03-01T00:00:00Z'), at('2026-03-01T01:00:00Z'), 21, 20)).not.toThrow();
    expect(() => assertRangeOrder(position(7), position(7), 7, 7)).not.toThrow();
  });

  it('compares a time with a position through the positions they resolve to', () => {
    expect(() => assertRangeOrder(at('2026-03-01T00:00:00Z'), position(5), 9, 5)).toThrow(refused('from', /must not be after to/));
    expect(() => assertRangeOrder(position(5), at('2026-03-01T00:00:00Z'), 5, 9)).not.toThrow();
  });

  it('without an end (the end of the log now), refuses nothing: a start past the last event has nothing to send yet', () =>
    expect(() => assertRangeOrder(position(500), undefined, 500, 20)).not.toThrow());
});
