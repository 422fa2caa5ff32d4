import { ConfigError, describeDatabase, loadConfig, StartRefused } from './config/config.js';
import { createApp } from './app.factory.js';

async function main(): Promise<void> {
  let config;
  let started;
  try {
    config = loadConfig();
    // createApp checks what only the features know (the webhook types of WEBHOOK_EXTRA_HOSTS_<TYPE>); it listens
    // before the start-up work (a check of the log, maybe a rebuild): /health/live answers throughout
    const { port, host } = config;
    started = await createApp(config, { listen: (app) => app.listen(port, host) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { app, adminToken } = started;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // stop taking requests, let in-flight work and attempts finish, release leases, close the database
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`Herald did not stop cleanly after ${signal}: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // for a person at a terminal: plain lines, apart from the JSON log lines meant for machines
  const url = `http://${config.host}:${port}`;
  const lines = ['', 'Herald is running', `  listening on   ${url}   (delivery console: ${url}/console)`, `  database       ${describeDatabase(config.database)}`];
  if (adminToken && !config.adminToken) {
    // printed once, on the start that created the admin; never logged again
    lines.push(`  admin token    ${adminToken}   (shown this once: keep it)`);
  } else if (adminToken) {
    lines.push('  admin user     created with the token from HERALD_ADMIN_TOKEN');
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((error) => {
  if (error instanceof StartRefused) {
    process.stderr.write(`Herald cannot start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Herald failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
