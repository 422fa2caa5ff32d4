import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A really small filesystem for one child process: a tmpfs of `sizeKiB` mounted at a new
 * folder inside a mount namespace of the child's own (`unshare --mount`; without root, in
 * a user namespace too). It exists only for that process: when it ends, however it ends,
 * the kernel unmounts it, so a failing test leaves no mount behind. The test reaches the
 * files through /proc/<pid>/root<mountPoint> (see `inside`).
 */
export interface SmallFilesystem {
  mountPoint: string;
  /** Prefix for the child's command line (ChildHerald's launcher). */
  launcher: string[];
  /** The path of a file on it, as this process reaches it while the child runs. */
  inside(pid: number, name: string): string;
  /** Removes the (empty, once the child is gone) mount point folder. */
  remove(): void;
}

/** The way to a small filesystem here, or why there is none (no `unshare`, or namespaces not allowed). */
export function smallFilesystem(sizeKiB: number): SmallFilesystem | { unavailable: string } {
  const mountPoint = mkdtempSync(join(tmpdir(), 'herald-smallfs-'));
  const namespaces = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const mountThen = (size: number) => ['unshare', ...namespaces, '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=${size}k tmpfs "$0" && exec "$@"`, mountPoint];
  // the same command, once with `true` as the program: does this machine allow it?
  const [command, ...args] = [...mountThen(64), 'true'];
  // generous: on a busy machine even `true` in a namespace can take a while, and a probe cut short fails the test
  const probe = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    rmSync(mountPoint, { recursive: true, force: true });
    return { unavailable: `cannot mount a tmpfs in a namespace of its own (${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()})` };
  }
  return {
    mountPoint,
    launcher: mountThen(sizeKiB),
    inside: (pid, name) => `/proc/${pid}/root${mountPoint}/${name}`,
    remove: () => rmSync(mountPoint, { recursive: true, force: true }),
  };
}
