import { ConfigError, describeDatabase, loadConfig, StartRefused } from './config/config.js';
import { createApp } from './app.factory.js';

let stopping = false;

/**
 * SIGTERM or SIGINT, from the moment Herald listens (its start-up work may still run: a rebuild
 * stops at its next slice): stop taking requests, let in-flight work and attempts finish, release
 * leases, close the database.
 */
function stopOnSignals(close: () => Promise<void>): void {
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`Herald did not stop cleanly after ${signal}: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
  let config;
  let started;
  try {
    config = loadConfig();
    // createApp checks what only the features know (the webhook types of WEBHOOK_EXTRA_HOSTS_<TYPE>); it listens
    // before the start-up work (a check of the log, maybe a rebuild): /health/live answers throughout
    const { port, host } = config;
    started = await createApp(config, {
      listen: async (app, close) => {
        stopOnSignals(close);
        await app.listen(port, host);
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { app, adminToken } = started;
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
  // a start stopped by a signal: stopOnSignals exits once the app is closed
  if (stopping) return;
  if (error instanceof StartRefused) {
    process.stderr.write(`Herald cannot start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Herald failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
