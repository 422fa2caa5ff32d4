import { invalid } from '../../shared/errors.js';

/** One end of a replay's range: a position of the log, or a time (the first event at or after it / the last at or before it). */
export type RangeEnd = { kind: 'position'; position: number } | { kind: 'time'; at: string };

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;
const FORMAT = 'must be an ISO time (2026-03-01T00:00:00Z) or position:<n>';

/** `position:<n>` or an ISO time that names a real instant; a 400 naming the field and the rule otherwise. */
export function parseRangeEnd(value: string, field: string): RangeEnd {
  const position = /^position:(\d{1,15})$/.exec(value);
  if (position) return { kind: 'position', position: Number(position[1]) };
  const parts = ISO.exec(value);
  if (!parts) throw invalid(`${field} ${FORMAT}`, [{ field, message: FORMAT }]);
  const problem = calendarProblem(parts.slice(1, 6).map(Number), parts[6] === undefined ? 0 : Number(parts[6]), parts[9] === undefined ? 0 : Number(parts[9]), parts[10] === undefined ? 0 : Number(parts[10]));
  if (problem) throw invalid(`${field} ${problem}`, [{ field, message: problem }]);
  return { kind: 'time', at: new Date(value).toISOString() };
}

/**
 * What makes the parts of an ISO time no instant at all (Date.parse reads 2026-02-30 as
 * 2 March and T24:00 as the next midnight: both are refused here, not moved).
 */
function calendarProblem([year, month, day, hour, minute]: number[], second: number, offsetHours: number, offsetMinutes: number): string | null {
  if (month < 1 || month > 12) return `has no month ${month} (months are 01 to 12)`;
  const days = daysIn(year, month);
  if (day < 1 || day > days) return `has no day ${day} in ${year}-${String(month).padStart(2, '0')} (it has ${days} days)`;
  if (hour > 23) return `has no hour ${hour} (hours are 00 to 23; midnight is T00:00 of the next day)`;
  if (minute > 59) return `has no minute ${minute} (minutes are 00 to 59)`;
  if (second > 59) return `has no second ${second} (seconds are 00 to 59)`;
  if (offsetHours > 23 || offsetMinutes > 59) return 'has an offset out of range (±00:00 to ±23:59)';
  return null;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A range whose start comes after its end is a mistake, not an empty replay: a 400 naming
 * `from`. Two times, or two positions, compare as given; a time against a position compares
 * through the positions they resolved to (`first`: the first event at or after `from`;
 * `last`: the last at or before `to`). Without `to` (the end of the log now) nothing is
 * refused: a start after the last event is a range with nothing in it yet.
 */
export function assertRangeOrder(from: RangeEnd, to: RangeEnd | undefined, first: number, last: number): void {
  if (!to) return;
  const after =
    from.kind === 'time' && to.kind === 'time' ? Date.parse(from.at) > Date.parse(to.at) : from.kind === 'position' && to.kind === 'position' ? from.position > to.position : first > last;
  if (after) throw invalid('from must not be after to', [{ field: 'from', message: 'must not be after to' }]);
}
