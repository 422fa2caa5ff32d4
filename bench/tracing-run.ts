/**
 * The tracing rows alone (node dist/bench/tracing-run.js, after npm run build): what tracing costs, without the rest of
 * npm run bench. Prints the rows; writes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tracingCost } from './tracing.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-tracing-'));
const loadAtStart = loadavg()[0];
try {
  for (const row of await tracingCost(dir)) {
    console.log(`${row.name}\n  on:  ${row.herald}\n  off: ${row.baseline}\n  ratio ${row.ratio.toFixed(2)} (target ≥ ${row.target})\n  ${row.note ?? ''}\n`);
  }
  console.log(`load average (1 min): ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
