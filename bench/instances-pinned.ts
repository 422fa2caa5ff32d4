/**
 * (g) pinned (issue 26): the rounds of (g) with each Herald instance pinned to a core and PostgreSQL, the receiver and
 * the bench on the other, to say on 2 cores what a second instance costs, what it could add, and what a delivery costs
 * each side in CPU. docs/scale.md reads the figures.
 */
import { cannotPin } from './cpus.js';
import { fmt, round, TOTAL, type BenchPostgres, type CpuUsed, type Placement, type RoundResult } from './instance-round.js';
import type { Row } from './webhooks.js';

/**
 * The pinned set-ups (issue 26): Herald on cpu 0; PostgreSQL (every process of it), the receiver and this bench
 * process on cpu 1. Each run PINNED_PASSES times, the set-ups taking turns (a loaded machine drifts); the median counts.
 */
const PINNED = {
  one: { instances: ['0'], rest: '1' },
  sameCore: { instances: ['0', '0'], rest: '1' },
  split: { instances: ['0', '1'], rest: '1' },
} satisfies Record<string, Placement>;
const PINNED_PASSES = 3;

/** Milliseconds per delivery, of seconds (of CPU, of waiting, of wall time) summed over `rounds` rounds. */
const perDelivery = (seconds: number, rounds: number) => (seconds * 1000) / (TOTAL * rounds);
const millis = (n: number) => `${n.toFixed(2)} ms`;

export async function pinnedRows(server: BenchPostgres, unpinned: RoundResult): Promise<Row[]> {
  const why = cannotPin();
  if (why) {
    return [{ name: '(g) pinned: PostgreSQL deliveries/s with instances pinned to cores', herald: 'not measured', baseline: why, ratio: 0, target: 1 }];
  }
  const results: Record<keyof typeof PINNED, RoundResult[]> = { one: [], sameCore: [], split: [] };
  for (let pass = 0; pass < PINNED_PASSES; pass++) {
    for (const key of Object.keys(PINNED) as (keyof typeof PINNED)[]) results[key].push(await round(server, PINNED[key]));
  }
  const median = (rs: RoundResult[]) => {
    const rates = rs.map((r) => r.rate).sort((a, b) => a - b);
    const middle = Math.floor(rates.length / 2);
    return rates.length % 2 === 1 ? rates[middle] : (rates[middle - 1] + rates[middle]) / 2;
  };
  const runs = (rs: RoundResult[]) => `runs: ${rs.map((r) => fmt(r.rate)).join(', ')}`;
  const total = (rs: RoundResult[], of: keyof CpuUsed) => rs.reduce((sum, r) => sum + r.cpu[of], 0);
  /** Milliseconds per delivery of one of the CPU figures, over all runs of a set-up. */
  const each = (rs: RoundResult[], of: keyof CpuUsed) => perDelivery(total(rs, of), rs.length);
  const one = results.one;
  const base = median(one);
  const [herald, postgres, receiver] = [each(one, 'herald'), each(one, 'postgres'), each(one, 'receiver')];
  // the event loop's wall time per delivery: running, waiting for its core, and the rest blocked (on PostgreSQL, the receiver, timers)
  const [wall, running, waiting] = [each(one, 'wall'), each(one, 'loopRunning'), each(one, 'loopWaiting')];
  const twice = (rs: RoundResult[]) => {
    const extra = rs.reduce((sum, r) => sum + r.received - TOTAL, 0);
    return extra > 0 ? ` (${extra} sent twice)` : '';
  };
  const loaded =
    'The machine is shared: whatever else runs (a test run of the whole suite, when these were measured) is not pinned and takes ' +
    'its share of both cores, so a pinned process has a core only as far as the load leaves it one: the time its event loop waited for the core says how much it did not. ';
  return [
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 1 instance on cpu 0; PostgreSQL, the receiver and the bench on cpu 1 (${TOTAL} deliveries)`,
      herald:
        `${fmt(base)} (${runs(one)})${twice(one)}; per delivery: Herald ${millis(herald)} of CPU; of ${millis(wall)} of wall time its event loop ran ${millis(running)}, ` +
        `waited for cpu 0 ${millis(waiting)} and was idle ${millis(wall - running - waiting)}; PostgreSQL ${millis(postgres)} of CPU (its processes waited ${millis(each(one, 'postgresWaiting'))} for cpu 1), ` +
        `the receiver ${millis(receiver)}`,
      baseline: `${fmt(unpinned.rate)} with 1 instance placed by the OS (same run; Herald ${millis(perDelivery(unpinned.cpu.herald, 1))}, PostgreSQL ${millis(perDelivery(unpinned.cpu.postgres, 1))}, the receiver ${millis(perDelivery(unpinned.cpu.receiver, 1))} of CPU per delivery)`,
      ratio: base / unpinned.rate,
      target: 0.5,
      note:
        `median of ${PINNED_PASSES} runs, the set-ups taking turns. Every thread of the instance started under \`taskset -c 0\`; the postmaster and every process under it (backends, ` +
        'checkpointer, WAL writer; backends forked later inherit it), the receiver and the bench process pinned to cpu 1 with `taskset -a -p`. CPU: each process\'s user and system time from /proc ' +
        '(PostgreSQL: the postmaster and everything under it, ended backends included), from the instant every delivery was due until all were recorded, over all runs, divided by the deliveries. ' +
        'The event loop (the main thread) from /proc/<pid>/schedstat: time on a core, time runnable but waiting for one (the run queue), and the rest of the wall time, when it had nothing to run (waiting for PostgreSQL\'s answers, the receiver\'s, timers). ' +
        'Ratio: pinned over placed by the OS (target 0.5: held to one core of two, it keeps at least half its rate). ' +
        'What it can say: how much CPU a delivery costs each side, and what the instance waits for: its core (then it is bound by CPU, its own or the load\'s) or PostgreSQL (then another instance has room to add). ' +
        'What it cannot: the rate on a machine of more cores, which the last pinned row bounds but does not measure. ' +
        loaded,
    },
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 2 instances both on cpu 0 (${TOTAL} deliveries)`,
      herald: `${fmt(median(results.sameCore))} (${runs(results.sameCore)})${twice(results.sameCore)}; Herald ${millis(each(results.sameCore, 'herald'))} of CPU per delivery`,
      baseline: `${fmt(base)} with 1 instance on cpu 0 (same run)`,
      ratio: median(results.sameCore) / base,
      target: 0.9,
      note:
        'the same core shared by two instances: no CPU is added, so no throughput can be; what the ratio measures is what a second instance costs ' +
        '(two dispatchers claiming from one queue with SKIP LOCKED, twice the polling, heartbeats and connections, two event loops switching on one core). ' +
        'Target 0.9: a second instance where it has no CPU to use costs at most a tenth. It cannot say whether a second instance adds throughput: on one core it has nothing to add with',
    },
    {
      name: `(g) pinned: PostgreSQL deliveries/s, 2 instances, one on cpu 0, one on cpu 1 beside PostgreSQL and the receiver (${TOTAL} deliveries)`,
      herald: `${fmt(median(results.split))} (${runs(results.split)})${twice(results.split)}; Herald ${millis(each(results.split, 'herald'))} of CPU per delivery`,
      baseline: `${fmt(base)} with 1 instance on cpu 0 (same run)`,
      ratio: median(results.split) / base,
      target: 1,
      note:
        'the second instance has CPU to use only as far as PostgreSQL and the receiver leave it some on cpu 1 (the first pinned row says how much CPU they took per delivery). ' +
        'Above 1: a second instance turned idle CPU into deliveries; near 1: cpu 1 had none to spare; under 1: taking it from PostgreSQL slowed the first instance more than the second added. ' +
        'On 2 cores this is the only set-up where a second instance gets CPU the first did not have, and it is not a core of its own: ' +
        'the scaling on machines of their own is what the last pinned row bounds, not a measurement',
    },
    {
      name: '(g) pinned: Herald cores one PostgreSQL core keeps busy (CPU per delivery, 1 instance pinned)',
      herald: `${(herald / postgres).toFixed(2)} (Herald ${millis(herald)}, PostgreSQL ${millis(postgres)} of CPU per delivery)`,
      baseline:
        `a bound, not a measurement: PostgreSQL on a core of its own carries at most ${fmt(1000 / postgres)} deliveries/s, ` +
        `each Herald core at most ${fmt(1000 / herald)}`,
      ratio: herald / postgres,
      target: 2,
      note:
        'ratio: Herald\'s CPU per delivery over PostgreSQL\'s, from the first pinned row (the receiver left out: a deployment\'s receivers run elsewhere). ' +
        'Target 2: one PostgreSQL core can keep at least two instances\' cores busy, so a second instance on a core of its own adds deliveries. ' +
        'A bound by CPU alone: it leaves out waiting for the WAL to reach the disk (shared by concurrent commits), lock and SKIP LOCKED contention between instances, ' +
        'and the load inflating both sides\' CPU per delivery (cache misses, switches); PostgreSQL with more cores runs more backends at once',
    },
  ];
}
