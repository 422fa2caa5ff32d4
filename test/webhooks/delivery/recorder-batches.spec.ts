import type { HeraldConfig } from '../../../src/config/config.js';
import type { WriteTx } from '../../../src/event-store/event-store.js';
import type { WebhookConfig } from '../../../src/webhooks/config/webhook.decider.js';
import type { Attempt } from '../../../src/webhooks/delivery/attempt.js';
import type { DeliveryRow } from '../../../src/webhooks/delivery/deliveries.js';
import { DeliveryRecorder } from '../../../src/webhooks/delivery/recorder.js';

/**
 * How the recorder groups attempts into transactions (each a database write): one webhook's
 * records come one after another while the previous ones commit.
 */
describe('DeliveryRecorder batches', () => {
  const NOW = new Date('2026-12-06T12:00:00Z');
  /** The transactions asked for, in order: while `held`, each commits when the test lets it. */
  let writes: { batch: string[]; commit: () => void; committed: Promise<void> }[];
  let held: boolean;
  let recorder: DeliveryRecorder;

  beforeEach(() => {
    writes = [];
    held = true;
    const tx = { now: NOW, lockStream: async () => undefined, all: async () => [], exec: async () => undefined } as unknown as WriteTx;
    const store = {
      transact: (write: (tx: WriteTx) => Promise<unknown>) => {
        let commit!: () => void;
        const committed = new Promise<void>((resolve) => (commit = resolve));
        const entry = { batch: [] as string[], commit, committed };
        writes.push(entry);
        if (!held) commit();
        return committed.then(() => write(tx));
      },
    };
    // the queue's part of the transaction: it says which deliveries the batch held
    const queueSql = {
      settleAttempts: async (_tx: WriteTx, rows: { id: string }[]) => {
        writes.find((w) => w.batch.length === 0)!.batch.push(...rows.map((r) => r.id));
        return new Set(rows.map((r) => r.id));
      },
    };
    const directory = { apply: () => undefined, noteFailures: () => undefined, failuresOf: () => 0 };
    const metrics = { attemptDuration: { observe: () => undefined }, deliveries: { inc: () => undefined } };
    const config = { webhooks: { retryScheduleMs: [1_000, 10_000] } } as unknown as HeraldConfig;
    recorder = new DeliveryRecorder(store as never, {} as never, config, { now: () => NOW }, () => 0.5, queueSql as never, directory as never, metrics as never);
  });

  const hook = { id: 7, projectId: 1, type: 'CUSTOM', health: { state: 'ACTIVE', disabledUntil: null, lastError: null } } as unknown as WebhookConfig;
  const attempt: Attempt = { request: { url: 'http://127.0.0.1/hook', headers: {}, body: '{}' }, response: null, verdict: { kind: 'delivered' }, startedAt: NOW, durationMs: 1 };
  const record = (id: string) => recorder.record({ delivery: { id, webhook_id: 7, project_id: 1, attempt_count: 0, retry_base: 0, recipient_id: null } as DeliveryRow, hook, attempt, test: false });
  const records = (...ids: string[]) => ids.map(record);

  it('starts writing what is queued when asked, and what comes in during that write waits to share the next one', async () => {
    const first = records('d1', 'd2', 'd3', 'd4', 'd5');
    recorder.startWriting();
    await waitFor(() => writes.length === 1);
    // the sixth comes in while the first five commit; its sender asks again (six uncommitted)
    const sixth = record('d6');
    recorder.startWriting();
    writes[0].commit();
    await Promise.all(first);
    expect(writes).toHaveLength(1);
    // the next ones arrive; five queued, a write starts with all of them
    held = false;
    const rest = records('d7', 'd8', 'd9', 'd10');
    recorder.startWriting();
    await Promise.all([sixth, ...rest]);
    expect(writes.map((w) => w.batch)).toEqual([
      ['d1', 'd2', 'd3', 'd4', 'd5'],
      ['d6', 'd7', 'd8', 'd9', 'd10'],
    ]);
  });

  it('writes what is queued right after the write in progress when someone waits for it (hurry)', async () => {
    const first = records('d1', 'd2', 'd3');
    recorder.hurry();
    await waitFor(() => writes.length === 1);
    const waited = record('d4');
    recorder.hurry();
    writes[0].commit();
    await Promise.all(first);
    await waitFor(() => writes.length === 2);
    writes[1].commit();
    expect(await waited).toMatchObject({ status: 'DELIVERED' });
    expect(writes.map((w) => w.batch)).toEqual([['d1', 'd2', 'd3'], ['d4']]);
  });

  it('writes a record nobody hurries within its wait at the latest', async () => {
    const alone = record('d1');
    await waitFor(() => writes.length === 1);
    writes[0].commit();
    expect(await alone).toMatchObject({ status: 'DELIVERED' });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}
