/**
 * A key-by-key difference of two JSON values, for the Bytebase oracle. Objects are compared key by
 * key; arrays and multi-line strings (as lines, path suffix `~lines`) are aligned by their longest
 * common subsequence, so a line added in the middle is one difference, not a shift of all the rest.
 * A gap of one element on each side that are both objects (or both strings) is compared inside.
 */
export interface Difference {
  op: 'added' | 'removed' | 'changed';
  /** `body.blocks[].text.text`: array positions are `[]`, since alignment, not position, matters. */
  path: string;
  bytebase?: unknown;
  herald?: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Pairs of indexes (i in a, j in b) of a longest common subsequence. */
function lcs(a: unknown[], b: unknown[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const table = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) table[i][j] = same(a[i], b[j]) ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (same(a[i], b[j])) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[i + 1][j] >= table[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

function diffArrays(a: unknown[], b: unknown[], path: string, out: Difference[]): void {
  const pairs = [...lcs(a, b), [a.length, b.length] as [number, number]];
  let i = 0;
  let j = 0;
  for (const [pi, pj] of pairs) {
    const removed = a.slice(i, pi);
    const added = b.slice(j, pj);
    if (removed.length === 1 && added.length === 1 && typeof removed[0] === typeof added[0] && (isObject(removed[0]) || typeof removed[0] === 'string')) {
      diffValues(removed[0], added[0], `${path}[]`, out);
    } else {
      for (const value of removed) out.push({ op: 'removed', path: `${path}[]`, bytebase: value });
      for (const value of added) out.push({ op: 'added', path: `${path}[]`, herald: value });
    }
    i = pi + 1;
    j = pj + 1;
  }
}

function diffValues(a: unknown, b: unknown, path: string, out: Difference[]): void {
  if (same(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (!(key in b)) out.push({ op: 'removed', path: `${path}.${key}`, bytebase: a[key] });
      else diffValues(a[key], b[key], `${path}.${key}`, out);
    }
    for (const key of Object.keys(b)) if (!(key in a)) out.push({ op: 'added', path: `${path}.${key}`, herald: b[key] });
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, path, out);
  if (typeof a === 'string' && typeof b === 'string' && (a.includes('\n') || b.includes('\n'))) return diffArrays(a.split('\n'), b.split('\n'), `${path}~lines`, out);
  out.push({ op: 'changed', path, bytebase: a, herald: b });
}

/** The differences from `bytebase` to `herald` (paths start without a dot: `body.text`). */
export function diffJson(bytebase: unknown, herald: unknown): Difference[] {
  const out: Difference[] = [];
  diffValues(bytebase, herald, '', out);
  return out.map((d) => ({ ...d, path: d.path.replace(/^\./, '') }));
}
