/** jest globalTeardown: what postgres-global-setup.ts left to do at the end of the run (drop leftovers, stop the embedded server). */
export default async function teardown(): Promise<void> {
  const postgres = globalThis.__heraldPostgres;
  globalThis.__heraldPostgres = undefined;
  await postgres?.stop();
}
