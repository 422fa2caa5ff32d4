// `npm test` runs this first: the delivery console's browser tests drive a real Chromium
// (playwright-core downloads no browser). Where it is missing, it is installed from the
// system's packages when that can be done here (root on Debian or Ubuntu); otherwise the
// run stops now with one line saying what to install, not with six failed tests later.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

const wanted = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fail(line) {
  process.stderr.write(`\n${line}\n`);
  process.exit(1);
}

function debianLike() {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release);
  } catch {
    return false;
  }
}

if (!runnable(wanted)) {
  if (process.env.CHROMIUM_PATH) fail(`CHROMIUM_PATH is ${wanted}, which is not an executable file: point it at a Chromium or Chrome binary`);
  const canInstall = process.getuid?.() === 0 && debianLike() && spawnSync('apt-get', ['--version']).status === 0;
  if (!canInstall) {
    fail(`The console's browser tests need Chromium at ${wanted}: install the \`chromium\` package (sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary`);
  }
  process.stdout.write(`Chromium is missing (${wanted}): installing the \`chromium\` package for the console's browser tests (apt-get)...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', 'chromium']]) {
    const step = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (step.status !== 0) fail(`\`apt-get ${args.join(' ')}\` failed (exit code ${step.status}): install the \`chromium\` package yourself, or set CHROMIUM_PATH`);
  }
  if (!runnable(wanted)) fail(`the \`chromium\` package is installed but ${wanted} is not there: set CHROMIUM_PATH to its binary`);
}
