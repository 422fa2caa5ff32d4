// `npm test` runs this first: what the suite needs from the system, installed from the system's packages when that
// can be done here (root on Debian or Ubuntu); otherwise the run stops now with one line saying what to install,
// not with failed tests later.
// - Chromium: the delivery console's browser tests drive a real one (playwright-core downloads no browser).
// - `unshare` and `mount` (util-linux, mount): the disk-full test mounts a small tmpfs in a namespace of its own
//   (skipped knowingly with HERALD_TEST_SKIP_DISK_FULL=1, and then not needed).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

function runnable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

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

const canInstall = () => process.getuid?.() === 0 && debianLike() && spawnSync('apt-get', ['--version']).status === 0;

/** Installs Debian packages with apt-get, or stops the run with `otherwise`. */
function install(packages, why, otherwise) {
  if (!canInstall()) fail(otherwise);
  process.stdout.write(`${why}: installing ${packages.map((p) => `\`${p}\``).join(' and ')} (apt-get)...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', ...packages]]) {
    const step = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (step.status !== 0) fail(`\`apt-get ${args.join(' ')}\` failed (exit code ${step.status}): ${otherwise}`);
  }
}

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!runnable(chromium)) {
  if (process.env.CHROMIUM_PATH) fail(`CHROMIUM_PATH is ${chromium}, which is not an executable file: point it at a Chromium or Chrome binary`);
  install(
    ['chromium'],
    `Chromium is missing (${chromium}) for the console's browser tests`,
    `The console's browser tests need Chromium at ${chromium}: install the \`chromium\` package (sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary`,
  );
  if (!runnable(chromium)) fail(`the \`chromium\` package is installed but ${chromium} is not there: set CHROMIUM_PATH to its binary`);
}

if (process.env.HERALD_TEST_SKIP_DISK_FULL !== '1' && !(onPath('unshare') && onPath('mount'))) {
  install(
    ['util-linux', 'mount'],
    '`unshare` or `mount` is missing for the disk-full test',
    'The disk-full test needs `unshare` and `mount`: install the `util-linux` and `mount` packages (sudo apt-get install util-linux mount), or skip that test knowingly with HERALD_TEST_SKIP_DISK_FULL=1',
  );
  if (!(onPath('unshare') && onPath('mount'))) fail('`util-linux` and `mount` are installed but `unshare` or `mount` is not on the PATH');
}
