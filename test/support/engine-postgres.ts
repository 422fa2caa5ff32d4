// The jest project "postgres" runs its suites on PostgreSQL: see testEngine() in ./test-app.ts.
process.env.HERALD_TEST_ENGINE = 'postgres';
