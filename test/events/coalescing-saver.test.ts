import { describe, expect, it } from 'vitest';
import { CoalescingSaver } from '../../src/events/coalescing-saver.js';

/** A save that records what it saw when it started, and can be held open until released. */
function recordingSave() {
  const seen: number[] = [];
  let state = 0;
  let running = 0;
  let maxRunning = 0;
  let hold: Promise<void> | undefined;
  let release = (): void => undefined;
  let fail: Error | undefined;
  const save = async (): Promise<void> => {
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    seen.push(state);
    try {
      if (hold) await hold;
      if (fail) throw fail;
    } finally {
      running -= 1;
    }
  };
  return {
    save,
    seen,
    set: (n: number) => void (state = n),
    holdNext: () => void (hold = new Promise<void>((r) => (release = () => { hold = undefined; r(); }))),
    release: () => release(),
    failWith: (err: Error | undefined) => void (fail = err),
    get maxRunning() { return maxRunning; },
  };
}

describe('coalescing saver (revocations file writes)', () => {
  it('a burst of requests made together is written once, and every request learns it succeeded', async () => {
    const s = recordingSave();
    const saver = new CoalescingSaver(s.save);
    s.set(200);
    const results = await Promise.all(Array.from({ length: 200 }, () => saver.request()));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(s.seen).toEqual([200]);
  });

  it('a request made while a save runs gets a later save that sees it (never reported saved by a write that started before it)', async () => {
    const s = recordingSave();
    const saver = new CoalescingSaver(s.save);
    s.holdNext();
    s.set(1);
    const first = saver.request();
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(s.seen).toEqual([1]); // the first save is running, held
    s.set(2);
    const second = saver.request();
    const third = saver.request(); // joins the queued one
    s.release();
    expect(await first).toBeUndefined();
    expect(await second).toBeUndefined();
    expect(await third).toBeUndefined();
    expect(s.seen).toEqual([1, 2]);
    expect(s.maxRunning).toBe(1);
  });

  it('a failed write is reported to every request it covered, and the next request writes again', async () => {
    const s = recordingSave();
    const saver = new CoalescingSaver(s.save);
    s.failWith(new Error('ENOSPC: no space left on device'));
    const failed = await Promise.all([saver.request(), saver.request()]);
    expect(failed.map((e) => e?.message)).toEqual(['ENOSPC: no space left on device', 'ENOSPC: no space left on device']);
    s.failWith(undefined);
    expect(await saver.request()).toBeUndefined();
    expect(s.seen).toHaveLength(2);
  });

  it('idle() waits for a write under way and one queued behind it', async () => {
    const s = recordingSave();
    const saver = new CoalescingSaver(s.save);
    s.holdNext();
    void saver.request();
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    void saver.request();
    let idle = false;
    const waiting = saver.idle().then(() => (idle = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(idle).toBe(false);
    s.release();
    await waiting;
    expect(s.seen).toHaveLength(2);
  });
});
