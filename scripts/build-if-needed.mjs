// `npm start` builds only when a source file is newer than the last build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const output = 'dist/src/main.js';
const consoleOutput = 'dist/console/console/src/main.js';
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
const sources = Math.max(newest('src'), statSync('package.json').mtimeMs, statSync('tsconfig.json').mtimeMs, statSync('tsconfig.build.json').mtimeMs);
if (!existsSync(output) || statSync(output).mtimeMs < sources) {
  process.stdout.write('building Herald...\n');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
// the delivery console's browser code and the API contract it imports (console/src and src/contract → dist/console)
const consoleSources = Math.max(newest('console/src'), newest('src/contract'), statSync('tsconfig.console.json').mtimeMs);
if (!existsSync(consoleOutput) || statSync(consoleOutput).mtimeMs < consoleSources) {
  process.stdout.write('building the delivery console...\n');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.console.json'], { stdio: 'inherit' });
}
