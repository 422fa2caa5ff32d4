import { TimeSlice } from '../../src/shared/time-slice.js';

/* Long work gives the event loop a turn once its slice is used up, and not before. */

describe('TimeSlice', () => {
  /** Whether a callback queued on the loop (as an incoming request's would be) ran during the pause. */
  async function loopRanDuring(pause: () => Promise<void>): Promise<boolean> {
    let ran = false;
    setImmediate(() => (ran = true));
    await pause();
    return ran;
  }

  it('keeps going while its time is not up, and yields once it is, starting a new slice', async () => {
    let now = 1_000;
    const slice = new TimeSlice(20, () => now);
    now += 19;
    expect(slice.due).toBe(false);
    expect(await loopRanDuring(() => slice.pause())).toBe(false);
    now += 1;
    expect(slice.due).toBe(true);
    expect(await loopRanDuring(() => slice.pause())).toBe(true);
    // a new slice from the moment the loop gave the work back
    expect(slice.due).toBe(false);
    now += 20;
    expect(await loopRanDuring(() => slice.pause())).toBe(true);
  });
});
