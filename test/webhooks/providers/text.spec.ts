import { LEVEL_COLOR, actorLine, fitParts, hostMatches, levelColorHex, partsOf, truncate, truncateMeasured, truncateUtf8Bytes, utf8Length } from '../../../src/webhooks/providers/text.js';
import { parseRetryAfter } from '../../../src/webhooks/providers/judging.js';
import { ACTIVITIES, LONE_SURROGATE, NOW, NOW_MS, at, utf8 } from './activities.js';

const FAMILY = '👩‍👩‍👧‍👦';

/** Reference grapheme boundaries: the whole string through Intl.Segmenter's iterator. */
function boundaries(text: string): Set<number> {
  const set = new Set([0]);
  for (const { index, segment } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)) set.add(index + segment.length);
  return set;
}

/** The expected result by brute force: the longest prefix ending on a boundary whose size fits, plus the suffix. */
function reference(text: string, max: number, size: (s: string) => number, suffix: string): string {
  if (size(text) <= max) return text;
  const budget = max - size(suffix);
  const ends = [...boundaries(text)].sort((a, b) => b - a);
  if (budget < 0) return text.slice(0, ends.find((e) => size(text.slice(0, e)) <= max) ?? 0);
  return text.slice(0, ends.find((e) => size(text.slice(0, e)) <= budget) ?? 0) + suffix;
}

/** Pieces that stress grapheme segmentation. */
const PIECES = [
  'a',
  'Z',
  ' ',
  '\r\n',
  '\n',
  'e\u0301',
  'e\u0301\u0302\u0303',
  '👍',
  '👍🏽',
  FAMILY,
  '🏳️‍🌈',
  '🇺🇸',
  '🇫',
  '한',
  '\u1100\u1161\u11A8', // Hangul jamo L V T: one grapheme
  'क्षि', // Devanagari conjunct
  '审',
  '𝔘',
  '\u200d',
  '#\uFE0F\u20E3',
];

/** A deterministic pseudo-random generator (tests must not depend on luck). */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('truncate', () => {
  it('keeps texts within the limit unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('', 0)).toBe('');
  });

  it('cuts to at most maxChars characters, suffix included', () => {
    expect(truncate('hello world', 8)).toBe('hello w…');
    expect(truncate('hello world', 8, '...')).toBe('hello...');
    expect(truncate('hello world', 8, '')).toBe('hello wo');
  });

  it('never splits a surrogate pair or a grapheme cluster', () => {
    expect(truncate('ab😀cd', 3, '')).toBe('ab');
    expect(truncate('ab😀cd', 4, '')).toBe('ab😀');
    expect(truncate(`x${FAMILY}${FAMILY}`, 12, '')).toBe(`x${FAMILY}`);
    expect(truncate(`x${FAMILY}${FAMILY}`, 11, '')).toBe('x');
    expect(truncate('ae\u0301\u0302b', 3, '')).toBe('a');
    expect(truncate('🇺🇸🇫🇷', 7, '')).toBe('🇺🇸');
    expect(truncate('🇺🇸🇫🇷', 3, '')).toBe('');
    expect(truncate('a\r\nb', 2, '')).toBe('a');
  });

  it('gives the bare prefix when not even the suffix fits', () => {
    expect(truncate('hello', 2, '...')).toBe('he');
    expect(truncate('hello', 0)).toBe('');
  });

  it('agrees with a brute-force reference on random texts, at every limit', () => {
    const random = rng(42);
    for (let round = 0; round < 150; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 25) }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      for (let max = 0; max <= text.length + 1; max++) {
        const cut = truncate(text, max);
        expect(cut).toBe(reference(text, max, (s) => s.length, '…'));
        expect(cut.length).toBeLessThanOrEqual(Math.max(max, 0));
        expect(cut).not.toMatch(LONE_SURROGATE);
      }
    }
  });

  it('is fast on long texts (a 1 MB text cut 1,000 times)', () => {
    const text = `${'x'.repeat(500_000)}${FAMILY.repeat(50_000)}`;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) truncate(text, 20_000 + i);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('truncateUtf8Bytes', () => {
  it('keeps the UTF-8 size at most maxBytes, cutting between characters', () => {
    expect(truncateUtf8Bytes('héllo', 2)).toBe('h');
    expect(truncateUtf8Bytes('héllo', 3)).toBe('hé');
    expect(truncateUtf8Bytes('审计审计', 7)).toBe('审计');
    expect(truncateUtf8Bytes('😀😀', 7)).toBe('😀');
    expect(truncateUtf8Bytes(FAMILY.repeat(3), 49)).toBe(FAMILY);
    expect(truncateUtf8Bytes('abc', 3)).toBe('abc');
  });

  it('takes an optional suffix that counts toward the limit', () => {
    expect(truncateUtf8Bytes('审计审计', 9, '…')).toBe('审计…');
    expect(utf8(truncateUtf8Bytes('审计审计', 9, '…'))).toBe(9);
  });

  it('agrees with a brute-force reference on random texts, at every limit', () => {
    const random = rng(7);
    for (let round = 0; round < 100; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 20) }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      for (let max = 0; max <= utf8(text) + 1; max++) {
        const cut = truncateUtf8Bytes(text, max);
        expect(cut).toBe(reference(text, max, utf8, ''));
        expect(utf8(cut)).toBeLessThanOrEqual(max);
        expect(truncateMeasured(text, max, utf8Length, '…')).toBe(reference(text, max, utf8, '…'));
      }
    }
  });
});

describe('fitParts', () => {
  const parts = partsOf(ACTIVITIES.stageEnded);
  const size = (p: typeof parts) => JSON.stringify(p).length;

  it('returns parts that fit unchanged', () => {
    expect(fitParts(parts, size, 10_000)).toBe(parts);
  });

  it('shrinks the description first, then meta values, then the title, then the actor', () => {
    const big = { ...parts, description: 'd'.repeat(1000), meta: parts.meta.map((m) => ({ ...m, value: 'v'.repeat(100) })), title: 't'.repeat(100), actor: 'a'.repeat(100) };
    const full = size(big);
    const descriptionOnly = fitParts(big, size, full - 500);
    expect(descriptionOnly.description).toMatch(/^d+…$/);
    expect(descriptionOnly.meta).toEqual(big.meta);
    expect(size(descriptionOnly)).toBeLessThanOrEqual(full - 500);
    expect(size(descriptionOnly)).toBeGreaterThan(full - 510);

    const metaToo = fitParts(big, size, full - 1500);
    expect(metaToo.description).toBe('');
    expect(metaToo.meta.every((m) => /^v+…$/.test(m.value))).toBe(true);
    expect(metaToo.title).toBe(big.title);

    const linesDropped = fitParts(big, size, 320);
    expect(linesDropped.meta.length).toBeLessThan(big.meta.length);
    expect(linesDropped.meta.length).toBeGreaterThan(0);
    expect(linesDropped.title).toBe(big.title);

    const titleToo = fitParts(big, size, 220);
    expect(titleToo.meta).toEqual([]);
    expect(titleToo.title).toMatch(/^t+…$/);
    expect(titleToo.actor).toBe(big.actor);
    expect(size(titleToo)).toBeLessThanOrEqual(220);

    const actorToo = fitParts(big, size, 120);
    expect(actorToo.title).toBe('…');
    expect(actorToo.actor).toMatch(/^a+…$/);
    expect(size(actorToo)).toBeLessThanOrEqual(120);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toEqual(at(120_000));
    expect(parseRetryAfter(' 0 ', NOW)).toEqual(NOW);
    expect(parseRetryAfter('1.5', NOW)).toEqual(at(1500));
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Fri, 01 May 2026 12:05:00 GMT', NOW)).toEqual(at(300_000));
  });

  it('is never earlier than now', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:00 GMT', NOW)).toEqual(NOW);
    expect(parseRetryAfter('-30', NOW)).toEqual(NOW);
  });

  it('is never more than 24 hours ahead', () => {
    expect(parseRetryAfter('999999', NOW)).toEqual(at(24 * 3600 * 1000));
    expect(parseRetryAfter('Sat, 01 May 2027 12:00:00 GMT', NOW)).toEqual(new Date(NOW_MS + 24 * 3600 * 1000));
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

describe('small helpers', () => {
  it('actorLine is "name (email)"', () => {
    expect(actorLine(ACTIVITIES.issueCreated)).toBe('Alice Chen (alice@example.com)');
  });

  it('level colors', () => {
    expect(LEVEL_COLOR).toEqual({ INFO: 0x1264a3, SUCCESS: 0x2eb67d, WARN: 0xecb22e, ERROR: 0xe01e5a });
    expect(levelColorHex('INFO')).toBe('1264A3');
  });

  it('hostMatches: exact hosts, and *. for subdomains only', () => {
    expect(hostMatches('hooks.slack.com', ['hooks.slack.com'])).toBe(true);
    expect(hostMatches('HOOKS.SLACK.COM', ['hooks.slack.com'])).toBe(true);
    expect(hostMatches('evilhooks.slack.com', ['hooks.slack.com'])).toBe(false);
    expect(hostMatches('x.webhook.office.com', ['*.office.com'])).toBe(true);
    expect(hostMatches('office.com', ['*.office.com'])).toBe(false);
    expect(hostMatches('notoffice.com', ['*.office.com'])).toBe(false);
    expect(hostMatches('office.com.evil.com', ['*.office.com'])).toBe(false);
  });
});
