/**
 * Options for a profiling run of the bench (not used by a plain `npm run bench`):
 * - BENCH_ONLY=b,d,h runs only those rows (by their letter) and prints them, leaving docs/benchmarks.md as it is;
 * - BENCH_CPU_PROF_DIR=/some/dir starts every Herald server the bench forks with `--cpu-prof` into that folder
 *   (the profile is written when the server exits, after the row).
 */
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((letter) => letter.trim().toLowerCase())
  .filter((letter) => letter !== '');

/** Whether the row with this letter runs. */
export const runs = (letter: string): boolean => only.length === 0 || only.includes(letter);

/** Whether every row runs (only then does the run write docs/benchmarks.md). */
export const everyRow = only.length === 0;

/** The Node.js options a forked Herald server starts with. */
export const serverExecArgv: string[] = [
  ...process.execArgv,
  ...(process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : []),
];
