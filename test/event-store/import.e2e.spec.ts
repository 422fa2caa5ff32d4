import { rmSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config.js';
import { openDataSource } from '../../src/database/data-source.js';
import { importEvents, openEventStore } from '../../src/domain.js';
import { NonConformingEventError } from '../../src/event-store/event-schema.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { WrongExpectedVersionError } from '../../src/event-store/event.js';
import { ImportStopped, type ExportedEvent } from '../../src/event-store/import.js';
import { systemClock } from '../../src/shared/clock.js';
import { tempDir, testDatabaseUrl } from '../support/test-app.js';

const metadata = { actorId: 2, correlationId: 'imported', causationId: null };
const at = '2026-01-01T00:00:00.000Z';

/** `streams` projects, `each` events apiece: created, then renamed again and again. */
function exported(streams: number, each: number, firstProject = 1): ExportedEvent[] {
  const events: ExportedEvent[] = [];
  for (let v = 1; v <= each; v++) {
    for (let p = firstProject; p < firstProject + streams; p++) {
      const data = v === 1 ? { projectId: p, name: `P${p}`, key: `K${p}`, creatorId: 2 } : { projectId: p, from: `P${p}-${v - 2}`, to: `P${p}-${v - 1}` };
      events.push({ streamId: `project-${p}`, version: v, type: v === 1 ? 'project.created' : 'project.renamed', schemaVersion: 1, data, metadata, occurredAt: at });
    }
  }
  return events;
}

describe('importing exported events', () => {
  let dir: string;
  let ds: DataSource;
  let store: EventStore;

  beforeEach(async () => {
    dir = tempDir();
    ds = await openDataSource(loadConfig({ DATABASE_URL: await testDatabaseUrl(dir) }, dir).database);
    store = openEventStore(ds, systemClock, { listen: false });
  });
  afterEach(async () => {
    await store.close();
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing when an event fails its schema, a stream is not at the version before its first event, or its versions skip one', async () => {
    await importEvents(store, exported(1, 2, 50));
    const head = await store.head();
    const late = exported(3, 400);
    // the last event of 1,200 is wrong: nothing before it is written either
    late[late.length - 1] = { ...late[late.length - 1], data: { projectId: 3, from: 'x', to: '' } };
    await expect(importEvents(store, late)).rejects.toThrow(NonConformingEventError);
    // project-50 is at version 2 already
    await expect(importEvents(store, [...exported(3, 400), ...exported(1, 1, 50)])).rejects.toThrow(new WrongExpectedVersionError('project-50', 0, 2));
    const gap = exported(3, 400).filter((e) => !(e.streamId === 'project-2' && e.version === 300));
    await expect(importEvents(store, gap)).rejects.toThrow(new WrongExpectedVersionError('project-2', 300, 299));
    expect(await store.head()).toBe(head);
  });

  it('keeps a trace context exported with an event, and refuses a malformed one, writing nothing', async () => {
    const traced = { ...metadata, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'congo=t61rcWkgMzE' };
    const [created, renamed] = exported(1, 2, 7);
    const broken = { ...renamed, metadata: { ...traced, traceparent: '00-not-a-trace-01' } };
    await expect(importEvents(store, [{ ...created, metadata: traced }, broken])).rejects.toThrow(
      new NonConformingEventError('project.renamed', 'metadata.traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)'),
    );
    expect(await store.head()).toBe(0);
    await importEvents(store, [{ ...created, metadata: traced }, renamed]);
    expect((await store.readStream('project-7')).map((e) => e.metadata)).toEqual([traced, metadata]);
  });

  it('writes in short transactions: a command appended while it runs commits between them, not after the whole import', async () => {
    const events = exported(10, 300);
    let command: Promise<number> | undefined;
    const imported = await importEvents(store, events, () => {
      // after the first slice: another writer (a command of the running service) appends to a stream of its own
      command ??= store.transact((tx) => tx.append('project-999', 0, [{ type: 'project.created', schemaVersion: 1, data: { projectId: 999, name: 'Live', key: 'LIVE', creatorId: 2 } }], { metadata })).then(([e]) => e.position);
    });
    expect(imported).toBe(events.length);
    const lastImported = (await store.queryOne<{ p: number }>(`SELECT MAX(position) AS p FROM events WHERE stream_id <> 'project-999'`))!.p;
    expect(await command).toBeLessThan(Number(lastImported));
  });

  it('stops where another writer appended to one of its streams meanwhile, keeping the events before', async () => {
    const events = exported(10, 300);
    let raced = false;
    const outcome = importEvents(store, events, async () => {
      if (raced) return;
      raced = true;
      // project-1 takes its version 200 before the import gets there
      await store.transact(async (tx) => {
        const version = await tx.streamVersion('project-1');
        await tx.append('project-1', version, [{ type: 'project.renamed', schemaVersion: 1, data: { projectId: 1, from: 'a', to: 'b' } }], { metadata });
      });
    });
    const stopped = (await outcome.catch((error: unknown) => error)) as ImportStopped;
    expect(stopped).toBeInstanceOf(ImportStopped);
    expect(stopped.message).toMatch(/^stopped after \d+ of 3000 events: stream project-1 is at version \d+, expected \d+ \(another writer appended to it during the import\)/);
    expect(await store.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE stream_id LIKE 'project-%'`)).toEqual({ n: stopped.written + 1 });
  });
});
