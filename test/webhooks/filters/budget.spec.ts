import { FILTER_BUDGET } from '../../../src/webhooks/filters/budget.js';
import { BUDGET_EXCEEDED, checkFilter, compileFilter, evaluateFilter, FILTER_VARIABLE_BOUNDS, filterSubject, isProblem, measureFilter, type FilterSubject } from '../../../src/webhooks/filters/filter.js';
import { worstCaseCost } from '../../../src/webhooks/filters/worst-case-cost.js';
import { ACTIVITIES } from '../providers/activities.js';

/* A filter's cost is bounded by construction: refused at save time if it could exceed the budget, metered when it runs. */

/** A comment activity whose description (and title) the test chooses. */
const withText = (description: string, title = 'Comment created - Add index'): FilterSubject => ({ ...filterSubject(ACTIVITIES.commentCreated), description, title });
/** The largest description an activity can carry: 65,536 characters (here, of one UTF-16 unit each). */
const LONGEST = 65_536;

describe('at save time, an expression that could exceed the budget on the largest activity is refused', () => {
  it('refuses the audit’s nested split (quadratic in the description), naming the part and the budget', () => {
    const [error] = checkFilter('description.split("").exists(a, description.split("").exists(b, false))');
    expect(error.field).toBe('filter');
    // the first part that alone could exceed it: splitting the description into a list as long as its text
    expect(error.message).toMatch(/^at position 0: `description\.split\(""\)` could take up to [\d,]+ steps on the largest activity, over the budget of 3,000,000/);
    expect(error.message).toMatch(/split\(\) makes a list as long as the text/);
  });

  it('refuses one level of iteration over a list made from the description, and a regular expression too large for it', () => {
    expect(checkFilter('description.split("\\n").exists(l, l.startsWith("ERROR"))')[0].message).toMatch(/^at position 0: .* over the budget/);
    expect(checkFilter('title.split("").exists(a, title.split("").exists(b, a == b))')[0].message).toMatch(/^at position 0: `title\.split.*rather than iterating/);
    expect(checkFilter('description.matches("[a-z]{1,200}!")')[0].message).toMatch(/pattern’s program size/);
  });

  it('accepts what filters are for: fields compared, texts searched, patterns over the description, lists made from short fields', () => {
    for (const filter of [
      'level == "ERROR" && stage.name == "prod"',
      'description.contains("deploy") || description.startsWith("ship")',
      'description.matches("(x+x+)+y")',
      'description.matches("(?i)(deploy|release|rollback).*(prod|production)")',
      'title.split(" ").exists(w, w == "prod")',
      'issue.name.lowerAscii().contains("hotfix") && description.size() < 1000',
      'task.status in ["FAILED", "CANCELED"]',
    ]) {
      expect([filter, checkFilter(filter)]).toEqual([filter, []]);
    }
  });

  it('takes RE2 patterns only, as string literals: a JavaScript-only construct or a computed pattern is refused where it stands', () => {
    expect(checkFilter('title.matches("(?=x)y")')[0].message).toBe('at position 14: the regular expression is not RE2 syntax: invalid or unsupported Perl syntax: `(?=`');
    expect(checkFilter('description.matches(title)')[0].message).toBe('at position 20: matches() takes its pattern as a string literal (so that its cost is known before it runs)');
    expect(checkFilter('title.matches("(?P<word>ship)")')).toEqual([]);
  });
});

describe('at run time, every evaluation is metered', () => {
  // what an older release accepted, and the decisions route still evaluates as the filter was at each event
  const NESTED = 'description.split("").exists(a, description.split("").exists(b, false))';

  it('stops the audit’s nested split on a 12,000-character comment at the budget: the activity is filtered, saying so', () => {
    const { outcome, steps } = measureFilter(NESTED, withText('x'.repeat(12_000)));
    expect(outcome).toEqual({ matched: false, error: BUDGET_EXCEEDED });
    expect(BUDGET_EXCEEDED).toBe('the filter exceeded its budget');
    // it stopped at the budget, give or take the last node (a split of one description)
    expect(steps).toBeGreaterThan(FILTER_BUDGET);
    expect(steps).toBeLessThan(FILTER_BUDGET + 20 * 12_000 + 1_000);
  });

  it('does not let an error cel-js absorbs hide the budget’s end (`expensive || true` is not true)', () => {
    expect(evaluateFilter(`(${NESTED}) || true`, withText('x'.repeat(12_000)))).toEqual({ matched: false, error: BUDGET_EXCEEDED });
    expect(evaluateFilter(`true || (${NESTED})`, withText('x'.repeat(12_000)))).toEqual({ matched: true });
  });

  it('lets the same expression through on a short text, where its work is small', () => {
    expect(evaluateFilter(NESTED.replace('false', 'b == "y"'), withText('xy'))).toEqual({ matched: true });
  });

  it('matches with RE2, at the root and inside an expression: RE2-only syntax works, JavaScript-only syntax is an error', () => {
    expect(evaluateFilter('title.matches("(?P<what>Comment) created")', withText(''))).toEqual({ matched: true });
    expect(evaluateFilter('level == "INFO" && title.matches("(?P<what>Comment) created")', withText(''))).toEqual({ matched: true });
    // the backtracking-hungry pattern of the audit, on a text that would take JavaScript's RegExp hours
    expect(evaluateFilter('description.matches("(x+x+)+y")', withText('x'.repeat(5_000)))).toEqual({ matched: false });
    expect(evaluateFilter('description.matches("(x+x+)+y")', withText(`${'x'.repeat(5_000)}y`))).toEqual({ matched: true });
    const computed = evaluateFilter('description.matches(title)', withText('abc', '(?=b)'));
    expect(computed.matched).toBe(false);
    expect(computed.error).toMatch(/unsupported Perl syntax/);
  });

  it('counts a text’s size in characters, as CEL does (a pair of UTF-16 units is one)', () => {
    expect(evaluateFilter('description.size() == 3', withText('a😀b'))).toEqual({ matched: true });
    expect(evaluateFilter('size(description) == 3', withText('a😀b'))).toEqual({ matched: true });
    expect(evaluateFilter('description.split("").size() == 4', withText('a😀b'))).toEqual({ matched: true });
  });
});

describe('the bound computed at save time covers what an evaluation uses', () => {
  /** Texts that make each kind of work as large as it can be. */
  const largest = [
    withText('x'.repeat(LONGEST), 't'.repeat(1000)),
    withText(' '.repeat(LONGEST), ' '.repeat(1000)),
    withText('😀'.repeat(LONGEST), '索'.repeat(1000)),
    withText('ab\n'.repeat(LONGEST / 3), 'a b'.repeat(333)),
  ];

  it.each([
    'description.contains("deploy") || description.startsWith("ship")',
    'description.matches("(?i)(deploy|release|rollback).*(prod|production)")',
    'description.matches("(x+x+)+y") && description.size() > 10',
    'title.split(" ").exists(w, w == "prod")',
    'title.split("").map(c, c + c).size() > 5',
    'title.split(" ").filter(w, w.size() > 1).size() > 5',
    '(description + title).lowerAscii().contains("z")',
    'cel.bind(t, title.upperAscii(), t.size() > 3 && t.contains("Q"))',
    '[1, 2, 3].all(i, [1, 2, 3].exists(j, i + j > 2)) && title.matches("t{3}")',
  ])('%s', (filter) => {
    const compiled = compileFilter(filter);
    if (isProblem(compiled)) throw new Error(compiled.message);
    expect(checkFilter(filter)).toEqual([]);
    const bound = worstCaseCost(compiled.ast, FILTER_VARIABLE_BOUNDS);
    for (const subject of largest) {
      const { outcome, steps } = measureFilter(filter, subject);
      expect(outcome.error).toBeUndefined();
      expect(steps).toBeGreaterThan(0);
      expect(steps).toBeLessThanOrEqual(bound);
    }
  });
});
