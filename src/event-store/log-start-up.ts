import { Logger } from '@nestjs/common';
import type { EventSchemas } from './event-schema.js';
import type { EventStore } from './event-store.js';
import { LogCheck } from './log-check.js';
import { logFingerprint } from './log-fingerprint.js';
import { READ_MODELS_VERSION, type ProjectionRebuilder } from './projection-rebuilder.js';

/** Told what the start-up is doing and how far it got (the start-up gate, for /health/ready). */
export type StartUpReport = (phase: string, done: number, total: number) => void;

/** A long check says how far it got this often. */
const PROGRESS_LOG_MS = 5000;

/**
 * What the event store does at every start, before anything reads the log (the app runs it
 * once Herald listens, see StartUpGate): the check of the events appended since the last
 * start (the whole log once per fingerprint), then a rebuild of read models built by an
 * older READ_MODELS_VERSION (one instance at a time). Both work in slices that yield.
 */
export class LogStartUp {
  private readonly logger = new Logger('EventStore');

  constructor(
    private readonly store: EventStore,
    private readonly schemas: EventSchemas,
    private readonly rebuilder: ProjectionRebuilder,
  ) {}

  async run(report: StartUpReport = () => undefined): Promise<void> {
    const fingerprint = logFingerprint(this.schemas, this.store.upcasters, READ_MODELS_VERSION);
    let loggedAt = performance.now();
    const result = await new LogCheck(this.store, this.schemas, fingerprint).run((checked, total) => {
      report('checking the event log', checked, total);
      if (performance.now() - loggedAt < PROGRESS_LOG_MS) return;
      loggedAt = performance.now();
      this.logger.log({ checked, total }, 'checking the event log');
    });
    this.logger.log(result, 'the event log matches its schemas');
    // one instance at a time (the rebuild's claim): the others wait for it, then find the read models current
    const rebuilt = await this.rebuilder.rebuildIfOutdated({
      requestedBy: 'start-up',
      onProgress: ({ phase, done, total }) => report(`rebuilding the read models: ${phase}`, done, total),
    });
    // a new database starts at version 1 too: marking its empty read models current is no news
    if (rebuilt && rebuilt.events > 0) this.logger.log(rebuilt, 'read models rebuilt from the log (built by an older version)');
  }
}
