import { RE2JS } from 're2js';

/**
 * The regular expressions of filters' `matches()`: RE2 syntax and semantics, as CEL's
 * specification says, through re2js (a pure-JavaScript RE2). Its matching time is linear in
 * the text (at most the text's length times the program's size), never the exponential
 * backtracking of JavaScript's RegExp, so a pattern's cost can be known before it runs.
 */
export interface CompiledPattern {
  /** Instructions of the compiled program: the per-character cost factor of a match. */
  programSize: number;
  /** Whether the pattern matches anywhere in the text (CEL's `matches` is unanchored). */
  test(text: string): boolean;
}

/** A pattern RE2 refuses (lookarounds, backreferences, repeat counts over 1000...): why, in RE2's words. */
export class PatternError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(reason);
    this.name = 'PatternError';
  }
}

const cache = new Map<string, CompiledPattern | PatternError>();
const CACHE_SIZE = 500;

/** Compiles (once, cached) or throws a PatternError. */
export function compilePattern(pattern: string): CompiledPattern {
  let known = cache.get(pattern);
  if (!known) {
    known = compileUncached(pattern);
    // the oldest first: a Map iterates in insertion order
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, known);
  }
  if (known instanceof PatternError) throw known;
  return known;
}

function compileUncached(pattern: string): CompiledPattern | PatternError {
  try {
    const re = RE2JS.compile(pattern);
    return { programSize: re.programSize(), test: (text) => re.test(text) };
  } catch (error) {
    return new PatternError(pattern, (error as Error).message.replace(/^error parsing regexp: /, ''));
  }
}
