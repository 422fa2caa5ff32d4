/**
 * (l) What one filter evaluation can cost: the worst expression the save-time check accepts,
 * over the largest activity (a 65,536-character description, a 1,000-character title).
 * Families of costly expressions are each grown until the check refuses them; the largest
 * accepted of each is evaluated on descriptions of every kind that makes its work large.
 * The figure is the slowest median evaluation (target ≤ 5 ms), and beside it the slowest
 * single one (garbage collection included) and what a filter saved before the check
 * (metered only) costs when it runs out of budget.
 */
import { FILTER_BUDGET } from '../src/webhooks/filters/budget.js';
import { checkFilter, filterSubject, measureFilter, type FilterSubject } from '../src/webhooks/filters/filter.js';
import type { Row } from './webhooks.js';

const LONGEST = 65_536;

function subject(description: string, title: string): FilterSubject {
  return {
    ...filterSubject({
      type: 'bb.issue.comment.create',
      level: 'INFO',
      title,
      description,
      link: '',
      actor: { id: 1, name: 'Bench' },
      project: { id: 1, name: 'Bench' },
      issue: { id: 1, name: 'x'.repeat(200), status: 'OPEN', type: 'bb.issue.general' },
    } as never),
  };
}

function random(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(32 + Math.floor(Math.random() * 95));
  return text;
}

/** Texts that make each kind of work as large as it can be: long runs, separators everywhere, pairs of UTF-16 units, CJK, noise. */
const SUBJECTS: [string, FilterSubject][] = [
  ['x×65,536', subject('x'.repeat(LONGEST), 'x'.repeat(1000))],
  ['spaces', subject(' '.repeat(LONGEST), ' '.repeat(1000))],
  ['emoji (131,072 units)', subject('😀'.repeat(LONGEST), '😀'.repeat(500))],
  ['lines "ab"', subject('ab\n'.repeat(LONGEST / 3), 'a b'.repeat(333))],
  ['CJK', subject('索'.repeat(LONGEST), '索'.repeat(1000))],
  ['random ASCII', subject(random(LONGEST), random(1000))],
];

const repeat = (n: number, part: (i: number) => string, sep: string) => Array.from({ length: n }, (_, i) => part(i)).join(sep);

/** Each family grows with n; the check refuses it past some n. */
const FAMILIES: [string, (n: number) => string][] = [
  ['alternation over the description', (n) => `description.matches("(?i)(${repeat(n, (i) => `deploy${i}`, '|')}).*(prod|production)")`],
  ['nested repetition', (n) => `description.matches("${repeat(n, () => '(x+x+)+', '')}y")`],
  ['bounded repetition', (n) => `description.matches("[a-z]{1,${n}}!")`],
  ['word classes', (n) => `description.matches("${repeat(n, () => '\\\\w+\\\\s', '')}@")`],
  ['text functions', (n) => repeat(n, (i) => `description.lowerAscii().contains("q${i}")`, ' || ')],
  ['sizes', (n) => repeat(n, (i) => `description.size() == ${i}`, ' || ')],
  ['iteration over the title', (n) => `title.split("").exists(c, ${repeat(n, (i) => `c + c == "q${i}"`, ' || ')})`],
  ['map and filter over the title', (n) => `title.split("").map(c, c + "${'z'.repeat(n)}").filter(s, s.size() == 3).size() > 1`],
  ['nested quantifiers over literals', (n) => { const list = `[${repeat(n, (i) => String(i), ', ')}]`; return `${list}.exists(a, ${list}.exists(b, ${list}.exists(c, a + b + c == -1)))`; }],
];

/** The largest n whose expression the check accepts (1 if none). */
function largestAccepted(family: (n: number) => string): number {
  let accepted = 1;
  let refused = 2;
  while (checkFilter(family(refused)).length === 0 && refused < 1_000_000) (accepted = refused), (refused *= 2);
  while (refused - accepted > 1) {
    const mid = Math.floor((accepted + refused) / 2);
    if (checkFilter(family(mid)).length === 0) accepted = mid;
    else refused = mid;
  }
  return accepted;
}

function timeOf(filter: string, s: FilterSubject, runs: number): { median: number; max: number; steps: number } {
  for (let i = 0; i < 3; i++) measureFilter(filter, s);
  const times: number[] = [];
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    steps = measureFilter(filter, s).steps;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], max: times[runs - 1], steps };
}

export function filterCost(): Row {
  let worst = { median: 0, max: 0, steps: 0, family: '', subject: '' };
  let slowestSingle = 0;
  const perFamily: string[] = [];
  for (const [name, family] of FAMILIES) {
    const filter = family(largestAccepted(family));
    let own = { median: 0, steps: 0, subject: '' };
    for (const [label, s] of SUBJECTS) {
      const t = timeOf(filter, s, 15);
      slowestSingle = Math.max(slowestSingle, t.max);
      if (t.median > own.median) own = { median: t.median, steps: t.steps, subject: label };
      if (t.median > worst.median) worst = { ...t, family: name, subject: label };
    }
    perFamily.push(`${name} ${own.median.toFixed(2)} ms (${(own.steps / 1e6).toFixed(2)} M steps, ${own.subject})`);
  }
  // a filter saved before the check: metered only, it runs until its budget is spent
  const unchecked = 'description.split("").exists(a, description.split("").exists(b, a == b + "z"))';
  const spent = Math.max(...SUBJECTS.map(([, s]) => timeOf(unchecked, s, 5).median));
  const target = 5;
  return {
    name: '(l) filter evaluation: the worst expression the check accepts, over the largest activity (ms per evaluation)',
    herald: `${worst.median.toFixed(2)} ms median (${worst.family}, ${worst.subject} description; ${worst.steps.toLocaleString('en-US')} steps)`,
    baseline: `target 5 ms; slowest single run ${slowestSingle.toFixed(1)} ms (GC included); an unchecked filter that spends its budget: ${spent.toFixed(1)} ms`,
    ratio: target / worst.median,
    target: 1,
    note:
      `${FAMILIES.length} families of costly expressions, each grown until the check refuses it, × ${SUBJECTS.length} kinds of 65,536-character description; ` +
      `budget ${FILTER_BUDGET.toLocaleString('en-US')} steps. Ratio = 5 ms ÷ the worst median (≥ 1: met). Each family's slowest median: ${perFamily.join('; ')}.`,
  };
}
