/**
 * What one filter evaluation may cost, in steps of about a nanosecond of this machine's
 * work. The same cost model serves twice: at save time over the largest values an activity
 * can hold (worst-case-cost.ts: an expression that could exceed the budget is refused), and
 * at run time over the values an activity does hold (metered-evaluation.ts: an evaluation
 * that runs out is stopped and its activity filtered). The constants are measured by
 * `npm run bench` (the filter row): the worst expression the check accepts, over a
 * 65,536-character description, must evaluate within about 5 ms.
 */
export const FILTER_BUDGET = 3_000_000;

/** Evaluating one node of the expression (the interpreter's own work), besides the size of what it gives. */
export const NODE_STEPS = 40;

/** Each entry of a list or map a node gives (an object the interpreter allocates and walks), besides its own size. */
export const ENTRY_STEPS = 30;

/** Compiling a regular expression (a literal one once, at save time; one read from a value, at each use), per character. */
export const COMPILE_STEPS_PER_CHAR = 100;

/** The steps a node that gives this value costs: NODE_STEPS, its text's length, ENTRY_STEPS per entry. */
export function valueSteps(value: unknown): number {
  const size = valueSize(value);
  return NODE_STEPS + (typeof value === 'string' ? size : size * ENTRY_STEPS);
}

/** The size of a value: a string's UTF-16 length, a list's or map's number of entries, 0 for a scalar. */
export function valueSize(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value) || value instanceof Uint8Array) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  let entries = 0;
  for (const key in value) if (Object.hasOwn(value, key)) entries++;
  return entries;
}

/** RE2 matches in time linear in the text: at most one step per character (code point) and instruction of the program. */
export function matchSteps(characters: number, programSize: number): number {
  return (characters + 1) * programSize;
}

/** Characters (code points) of a text: RE2 reads a surrogate pair as one. */
export function characterCount(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) (pairs++, i++);
    }
  }
  return text.length - pairs;
}

/** Thrown inside an evaluation that used its budget up; the evaluation stops there. */
export class BudgetExceeded extends Error {
  constructor(readonly budget: number) {
    super(`the filter exceeded its budget (${budget.toLocaleString('en-US')} steps)`);
    this.name = 'BudgetExceeded';
  }
}

/** The steps one evaluation has used. */
export class Meter {
  used = 0;
  /**
   * Thrown at every charge past the budget: one error, made once. cel-js goes on after
   * errors in places (each element of `exists`), and a stack trace captured per throw
   * would cost more than the work it stops.
   */
  private readonly exceeded: BudgetExceeded;

  constructor(readonly budget: number = FILTER_BUDGET) {
    this.exceeded = new BudgetExceeded(budget);
  }

  get exhausted(): boolean {
    return this.used > this.budget;
  }

  /** Adds steps; throws once the budget is passed (and at every later charge). */
  charge(steps: number): void {
    this.used += steps;
    if (this.used > this.budget) throw this.exceeded;
  }
}
