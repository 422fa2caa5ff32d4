import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The module map of docs/architecture.md: each folder of src/ on a level; a file may import
 * from its own folder and from folders on lower levels, never from a higher level or from
 * another folder of its own level. The root files (app.module, domain, main, cli) are the top;
 * src/version.ts sits with shared/; the API contract (contract/, compiled for the console too)
 * is the bottom.
 */
const LEVELS: string[][] = [
  ['contract'],
  ['shared'],
  ['config'],
  ['database'],
  ['event-store'],
  ['http'],
  ['users'],
  ['issues'],
  ['projects'],
  ['webhooks'],
  ['events-feed', 'console'],
  ['operations'],
  ['(root)'],
];

/** Imports allowed against the map, each with its reason (none today: keep it that way). */
const EXCEPTIONS: { from: RegExp; to: RegExp; why: string }[] = [];

export interface ImportLine {
  /** Both relative to src/, with the .ts extension. */
  from: string;
  to: string;
}

// src/version.ts belongs to the bottom, with shared/
const nodeOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file === 'version.ts' ? 'shared' : '(root)');
const levelOf = (node: string) => LEVELS.findIndex((level) => level.includes(node));

/** The imports that break the map, each as "from -> to". */
export function violations(imports: ImportLine[]): string[] {
  return imports
    .filter(({ from, to }) => {
      const [a, b] = [nodeOf(from), nodeOf(to)];
      if (a === b) return false;
      if (levelOf(a) < 0 || levelOf(b) < 0) return true; // a folder the map does not name yet
      const up = levelOf(b) > levelOf(a) || (levelOf(b) === levelOf(a) && a !== b);
      return up && !EXCEPTIONS.some((e) => e.from.test(from) && e.to.test(to));
    })
    .map(({ from, to }) => `${from} -> ${to}`);
}

const SRC = 'src';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import (static, type-only, re-export or dynamic) of every file under src/. */
function importLines(): ImportLine[] {
  const specifier = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(specifier)].map((m) => ({
      from: relative(SRC, file),
      to: relative(SRC, normalize(join(dirname(file), m[1]))).replace(/\.js$/, '.ts'),
    })),
  );
}

describe('the module map (docs/architecture.md)', () => {
  it('reads the imports of the source tree', () => {
    const lines = importLines();
    expect(lines.length).toBeGreaterThan(300);
    // a file the import names exists: the paths are read right
    expect(lines).toContainEqual({ from: 'app.module.ts', to: 'event-store/event-store.module.ts' });
  });

  it('holds every folder of src/ on a level', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((folder) => levelOf(folder) < 0)).toEqual([]);
  });

  it('finds an import that runs up the map, and one across a level', () => {
    expect(
      violations([
        { from: 'event-store/event-store.module.ts', to: 'issues/issue.projection.ts' },
        { from: 'console/console.module.ts', to: 'events-feed/events-feed.module.ts' },
        { from: 'webhooks/activity-mapping.ts', to: 'issues/issue.events.ts' },
        { from: 'config/config.ts', to: 'webhooks/providers/registry.ts' },
      ]),
    ).toEqual([
      'event-store/event-store.module.ts -> issues/issue.projection.ts',
      'console/console.module.ts -> events-feed/events-feed.module.ts',
      'config/config.ts -> webhooks/providers/registry.ts',
    ]);
  });

  it('has no import that runs up the map in src/', () => {
    expect(violations(importLines())).toEqual([]);
  });
});
