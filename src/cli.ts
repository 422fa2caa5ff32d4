#!/usr/bin/env node
/**
 * The herald command line: operations on a Herald database without the server, and a
 * development receiver for webhooks. Reads the same environment as the service.
 */
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { Webhook } from 'standardwebhooks';
import { describeDatabase, loadConfig } from './config/config.js';
import { openDataSource, pgPool } from './database/data-source.js';
import { partitionSpanOf } from './database/engine.js';
import { PartitionKeeper } from './database/partition-keeper.js';
import { WrongExpectedVersionError, type RecordedEvent } from './event-store/event.js';
import { NonConformingEventError } from './event-store/event-schema.js';
import type { ExportedEvent } from './event-store/import.js';
import { ProjectionRebuilder, type RebuildProgress } from './event-store/projection-rebuilder.js';
import type { EventStore } from './event-store/event-store.js';
import { AGGREGATES, importEvents, openEventStore } from './domain.js';
import { systemClock } from './shared/clock.js';
import { HERALD_VERSION } from './version.js';

/**
 * What the library logs (the partition keeper's ranges, a checkpoint worker's trouble) goes to standard error as one
 * line each: standard output carries what a command prints, an export's events.
 */
function logToStandardError(level: string) {
  return (message: unknown, ...rest: unknown[]) => {
    const text = rest.filter((p) => typeof p === 'string').join(' ');
    const fields = typeof message === 'object' && message !== null && !(message instanceof Error) ? JSON.stringify(message, (_k, v: unknown) => (v instanceof Error ? v.message : v)) : String(message);
    process.stderr.write(`herald: ${level}: ${text ? `${text} ` : ''}${fields}\n`);
  };
}
Logger.overrideLogger({ log: logToStandardError('info'), warn: logToStandardError('warn'), error: logToStandardError('error'), debug: () => undefined, verbose: () => undefined });

/** A progress bar on a terminal; plain lines (at most one per 10 %) otherwise. */
function progress(label: string, unit = 'events') {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} ${unit}`, stream: process.stderr });
    let started = false;
    return {
      update(done: number, total: number) {
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update(done: number, total: number) {
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${label}: ${done}/${total} ${unit}\n`);
      }
    },
    stop: () => undefined,
  };
}

/** A rebuild's progress: a bar (or lines) per phase. */
function rebuildProgress() {
  let phase = '';
  let bar = progress('rebuilding');
  return {
    update({ phase: now, done, total }: RebuildProgress) {
      if (now !== phase) {
        bar.stop();
        phase = now;
        bar = progress(`rebuilding: ${now}`, now === 'writing the read models' ? 'streams' : 'events');
      }
      bar.update(done, total);
    },
    stop: () => bar.stop(),
  };
}

/**
 * The store on the configured database, with PostgreSQL's partitions kept ahead of what is appended, as the
 * service keeps them (no instance may be running to do it).
 */
async function withStore<T>(run: (store: EventStore, keeper: PartitionKeeper | null) => T | Promise<T>): Promise<T> {
  const config = loadConfig();
  const ds = await openDataSource(config.database);
  try {
    const store = openEventStore(ds, systemClock, { listen: false });
    const keeper = ds.options.type === 'postgres' ? new PartitionKeeper(pgPool(ds), store, partitionSpanOf(ds.options)) : null;
    try {
      await keeper?.start();
      return await run(store, keeper);
    } finally {
      await keeper?.onModuleDestroy();
      await store.close();
    }
  } finally {
    await ds.destroy();
  }
}

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

const program = new Command('herald').description('Herald: event-sourced issue workflows with project webhooks').version(HERALD_VERSION);

program
  .command('migrate')
  .description('apply the database migrations (the service also does this at start)')
  .action(async () => {
    const config = loadConfig();
    const ds = await openDataSource(config.database);
    const applied = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    await ds.destroy();
    process.stdout.write(`database ${describeDatabase(config.database)} is at migration ${applied[applied.length - 1]?.name ?? '(none)'} (${applied.length} applied)\n`);
  });

program
  .command('rebuild-projections')
  .description('drop every read model and rebuild it from the event log')
  .action(async () => {
    await withStore(async (store) => {
      const bar = rebuildProgress();
      const result = await new ProjectionRebuilder(store, AGGREGATES).rebuild({ requestedBy: 'cli', onProgress: (p) => bar.update(p) });
      bar.stop();
      process.stdout.write(`rebuilt the read models from ${result.events} events in ${result.durationMs} ms\n`);
    });
  });

const events = program.command('events').description('export and import the event log');

events
  .command('export')
  .description('write events as JSON lines (webhook credentials stay sealed: import them where the same HERALD_SECRET_KEY is set)')
  .option('--stream <id>', 'one stream, e.g. issue-7')
  .option('--after <position>', 'the global log after this position', integer)
  .action(async (options: { stream?: string; after?: number }) => {
    if ((options.stream === undefined) === (options.after === undefined)) throw new InvalidArgumentError('give exactly one of --stream or --after');
    await withStore(async (store) => {
      const write = (e: RecordedEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);
      if (options.stream !== undefined) {
        for (const e of await store.readStream(options.stream)) write(e);
        return;
      }
      for (let after = options.after!, page = await store.readAll(after, 1000); page.length > 0; after = page[page.length - 1].position, page = await store.readAll(after, 1000)) {
        for (const e of page) write(e);
      }
    });
  });

events
  .command('import <file>')
  .description('append exported events (JSON lines) at their stream versions; a version already taken is refused and nothing is kept')
  .action(async (file: string) => {
    const lines: ExportedEvent[] = [];
    for await (const line of createInterface({ input: createReadStream(file) })) if (line.trim()) lines.push(JSON.parse(line) as ExportedEvent);
    await withStore(async (store, keeper) => {
      await keeper?.reserve(lines.length);
      const bar = progress('importing');
      bar.update(0, lines.length);
      try {
        await importEvents(store, lines, (done, total) => bar.update(done, total));
      } catch (error) {
        // judged before anything is written
        if (error instanceof WrongExpectedVersionError || error instanceof NonConformingEventError) {
          throw new Error(`refused: ${error.message}; nothing was imported`);
        }
        // ImportStopped says how far it got
        throw error;
      }
      bar.update(lines.length, lines.length);
      bar.stop();
      const rebuilt = await new ProjectionRebuilder(store, AGGREGATES).rebuild({ requestedBy: 'cli' });
      process.stdout.write(`imported ${lines.length} events; read models rebuilt from ${rebuilt.events}\n`);
    });
  });

program
  .command('receiver')
  .description('a development webhook receiver: prints each webhook, checks its signature, answers {"code":0}')
  .requiredOption('--port <port>', 'port on 127.0.0.1', integer)
  .option('--secret <whsec>', 'the webhook signing secret (whsec_...) to verify with')
  .action((options: { port: number; secret?: string }) => {
    const verifier = options.secret ? new Webhook(options.secret) : null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let signature = 'not checked';
        if (verifier) {
          try {
            verifier.verify(body, req.headers as Record<string, string>);
            signature = 'valid';
          } catch (error) {
            signature = `INVALID (${(error as Error).message})`;
          }
        }
        process.stdout.write(`${JSON.stringify({ id: req.headers['webhook-id'] ?? null, signature, body: safeJson(body) })}\n`);
        res.writeHead(verifier && signature !== 'valid' ? 400 : 200, { 'content-type': 'application/json' });
        res.end(verifier && signature !== 'valid' ? '{"code":400,"message":"bad signature"}' : '{"code":0,"message":""}');
      });
    });
    server.listen(options.port, '127.0.0.1', () => process.stderr.write(`receiving webhooks on http://127.0.0.1:${options.port}/\n`));
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
    process.once('SIGINT', () => server.close(() => process.exit(0)));
  });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
