import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';

/**
 * The console's own policy: its page runs only the scripts and styles Herald serves
 * (no inline code, no other origin) and talks only to Herald's API. Set on the console's
 * responses alone: the JSON API does not render documents.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** Only plain names: no folders, no dots but the extension's. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]{0,63}\.(js|css|svg)$/;

export interface ConsoleFile {
  body: Buffer;
  type: string;
}

/** The repository's root, found upwards from this file (in src/ and in dist/src/ alike). */
function rootDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('the console cannot find package.json above its own folder');
}

/**
 * The console's files: the page and its stylesheet from console/static, the browser
 * code compiled by `npm run build` (tsconfig.console.json): the console's modules
 * (console/src) and the server's API contract they import (src/contract), side by side
 * under one flat /console/assets/ as the console's imports expect them. Read on each
 * request (a few small files; a rebuild shows without a restart).
 */
@Injectable()
export class ConsoleAssets {
  private readonly root = rootDir();
  readonly staticDir = join(this.root, 'console', 'static');
  /** In this order: a console module's name hides a contract module's (a test keeps the two sets of names apart). */
  readonly scriptDirs = [join(this.root, 'dist', 'console', 'console', 'src'), join(this.root, 'dist', 'console', 'src', 'contract')];

  page(): Promise<ConsoleFile | undefined> {
    return this.read(join(this.staticDir, 'index.html'), 'html');
  }

  async asset(name: string): Promise<ConsoleFile | undefined> {
    const match = ASSET_NAME.exec(name);
    if (!match) return undefined;
    const ext = match[1];
    if (ext !== 'js') return this.read(join(this.staticDir, name), ext);
    for (const dir of this.scriptDirs) {
      const file = await this.read(join(dir, name), ext);
      if (file) return file;
    }
    return undefined;
  }

  private async read(path: string, ext: string): Promise<ConsoleFile | undefined> {
    try {
      return { body: await readFile(path), type: TYPES[ext] };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
