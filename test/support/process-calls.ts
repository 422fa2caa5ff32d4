import { spawnSync } from 'node:child_process';
/** Helpers for tests that drive Herald processes (ChildHerald) over HTTP, and its command line. */

/** A JSON call with a bearer token to a process at `base`; anything but 2xx throws, naming the call. */
export function caller(token: string) {
  return async (base: string, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };
}

/** Waits until `check` holds, looking every 20 ms; after `ms` it fails, saying what it waited for. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The built `herald` command line with these arguments and only this environment (and PATH), run to its end. */
export const heraldCli = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['dist/src/cli.js', ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 });
