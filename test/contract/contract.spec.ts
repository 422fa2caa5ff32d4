import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleAssets } from '../../src/console/console-assets.js';

/**
 * The API contract (src/contract) is the one source of the shapes and lists the server
 * answers with and the console reads: the server's views and DTOs are typed by it, and
 * tsconfig.console.json compiles it with the console (its rootDirs make console/src and
 * src/contract one folder), so `npm run typecheck` fails when the two disagree. What the
 * compilers do not see is checked here.
 */
const CONTRACT = 'src/contract';
const CONSOLE = 'console/src';

const modules = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.ts'));
const source = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');
const specifiers = (text: string) => [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);

describe('the API contract shared by the server and the console', () => {
  it('imports nothing but its own modules: it runs in the browser as it is', () => {
    const imports = modules(CONTRACT).flatMap((name) => specifiers(source(CONTRACT, name)).map((to) => `${name} -> ${to}`));
    expect(imports.length).toBeGreaterThan(0);
    const own = new Set(modules(CONTRACT).map((name) => `./${name.replace(/\.ts$/, '.js')}`));
    expect(imports.filter((line) => !own.has(line.split(' -> ')[1]))).toEqual([]);
  });

  it('shares no module name with the console (one folder to the console and to the browser)', () => {
    const consoleModules = new Set(modules(CONSOLE));
    expect(modules(CONTRACT).filter((name) => consoleModules.has(name))).toEqual([]);
  });

  it('is not copied: the console declares none of the names the contract exports', () => {
    const exported = modules(CONTRACT).flatMap((name) => [...source(CONTRACT, name).matchAll(/^export (?:interface|type|const) (\w+)/gm)].map((m) => m[1]));
    expect(exported).toEqual(expect.arrayContaining(['ACTIVITY_TYPES', 'DELIVERY_STATUSES', 'Problem', 'WebhookView', 'DeliveryView']));
    const declaration = /^\s*(?:export\s+)?(?:async\s+)?(?:(?:interface|class|enum)\s+(\w+)|type\s+(\w+)\s*(?:<[^>]*>)?\s*=|(?:const|let|var)\s+(\w+)\s*[:=]|function\s+(\w+)\s*[(<])/gm;
    const declared = modules(CONSOLE).flatMap((name) =>
      [...source(CONSOLE, name).matchAll(declaration)].map((m) => m.slice(1).find(Boolean)!).filter((id) => exported.includes(id)).map((id) => `${name}: ${id}`),
    );
    // the pattern finds a declaration: the console's own
    expect([...source(CONSOLE, 'api.ts').matchAll(declaration)].map((m) => m.slice(1).find(Boolean))).toEqual(expect.arrayContaining(['WebhookInput', 'ApiError', 'session', 'call', 'api']));
    expect(declared).toEqual([]);
  });

  it('is served beside the console’s modules, under the names their imports use (after npm run build)', async () => {
    const assets = new ConsoleAssets();
    const names = [...modules(CONSOLE), ...modules(CONTRACT)].map((name) => name.replace(/\.ts$/, '.js'));
    const served = await Promise.all(names.map(async (name) => [name, (await assets.asset(name))?.type] as const));
    expect(served.filter(([, type]) => type !== 'text/javascript; charset=utf-8')).toEqual([]);
  });
});
