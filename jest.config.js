/** Jest 30 + ts-jest in native ESM mode: NestJS 12 packages are ESM-only. */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // see test/support/content-disposition.cjs
    '^content-disposition$': '<rootDir>/test/support/content-disposition.cjs',
    // its ESM build imports JSON without an import attribute, which Jest warns about (an error in its next major)
    '^libphonenumber-js$': '<rootDir>/node_modules/libphonenumber-js/index.cjs',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
};

export default {
  projects: [
    // every suite, on the embedded engine
    { ...common, displayName: 'sqlite', testMatch: ['<rootDir>/test/**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '\\.postgres\\.e2e\\.spec\\.ts$'] },
    // the suites that touch a database, again on PostgreSQL (startTestApp and testDatabaseUrl read HERALD_TEST_ENGINE),
    // and those about several instances (*.postgres.e2e.spec.ts: SQLite serves one process); the migration suites
    // name their engine themselves, and the browser suite tests the page, not the engine
    {
      ...common,
      displayName: 'postgres',
      testMatch: ['<rootDir>/test/**/*.e2e.spec.ts', '<rootDir>/test/**/*.property.spec.ts', '<rootDir>/test/event-store/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.browser\\.e2e\\.spec\\.ts$'],
      setupFiles: ['<rootDir>/test/support/engine-postgres.ts'],
    },
  ],
  // one PostgreSQL for the whole run: DATABASE_URL_POSTGRES if set, else an embedded one (test/support/postgres.ts)
  globalSetup: '<rootDir>/test/support/postgres-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/postgres-global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  // each test file's ESM modules stay in the worker's heap (vm modules): a worker past this after a file is
  // replaced by a fresh one, before 200 files' worth runs it out of memory (it did, on the PostgreSQL project)
  workerIdleMemoryLimit: '1GB',
};
