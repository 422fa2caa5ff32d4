/** A plain decimal without leading zeros, at most 16 digits ("0", "7", "1234"; not "007", "1e3", "0x10", " 7", "+7", "7.0"). */
const PLAIN_DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * The number a string of plain decimal digits writes, if it is one a JavaScript number holds
 * exactly; undefined for anything else. `Number()` would read "1e2" as 100, " 7" as 7 and ""
 * as 0: ids in paths, integers in query strings and the numbers inside cursors go through this instead.
 */
export function plainDecimal(value: unknown): number | undefined {
  if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
