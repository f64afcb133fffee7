import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/proxy/deadlines.js';

/** An owner like UpstreamConnection: a waiting map, and expiry answers (removes) the request. */
function owner() {
  const waiting = new Map<number, true>();
  const expired: Array<[number, number]> = [];
  const deadlines = new Deadlines({
    waiting,
    expire: (id, ms) => {
      waiting.delete(id);
      expired.push([id, ms]);
    },
  });
  const send = (id: number, ms: number) => {
    waiting.set(id, true);
    deadlines.add(id, ms);
  };
  return { waiting, expired, deadlines, send };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('request deadlines', () => {
  it('expires a waiting request after its own timeout, not before', () => {
    const o = owner();
    o.send(1, 300);
    vi.advanceTimersByTime(250);
    o.send(2, 300);
    o.send(3, 1_000);
    vi.advanceTimersByTime(48);
    expect(o.expired).toEqual([]);
    vi.advanceTimersByTime(3);
    expect(o.expired).toEqual([[1, 300]]);
    vi.advanceTimersByTime(250);
    expect(o.expired).toEqual([[1, 300], [2, 300]]);
    vi.advanceTimersByTime(697); // t = 1248: id 3 is due at 1250
    expect(o.expired).toHaveLength(2);
    vi.advanceTimersByTime(3);
    expect(o.expired).toEqual([[1, 300], [2, 300], [3, 1_000]]);
  });

  it('never expires a request that was answered', () => {
    const o = owner();
    o.send(1, 100);
    o.send(2, 100);
    o.waiting.delete(1);
    vi.advanceTimersByTime(200);
    expect(o.expired).toEqual([[2, 100]]);
  });

  it('keeps entries for answered requests bounded by the number waiting (a flood of quick calls)', () => {
    const o = owner();
    o.send(0, 60_000); // one slow call stays waiting the whole time
    for (let id = 1; id <= 100_000; id++) {
      o.send(id, 60_000);
      o.waiting.delete(id);
    }
    const lane = [...(o.deadlines as unknown as { lanes: Map<number, { ids: number[]; head: number }> }).lanes.values()][0]!;
    expect(lane.ids.length - lane.head).toBeLessThan(200);
    vi.advanceTimersByTime(60_001);
    expect(o.expired).toEqual([[0, 60_000]]);
  });

  it('handles a request sent from inside an expiry (a retry) without losing it', () => {
    const waiting = new Map<number, true>();
    const expired: number[] = [];
    const deadlines: Deadlines = new Deadlines({
      waiting,
      expire: (id) => {
        waiting.delete(id);
        expired.push(id);
        if (id < 3) {
          waiting.set(id + 1, true);
          deadlines.add(id + 1, 100);
        }
      },
    });
    waiting.set(1, true);
    deadlines.add(1, 100);
    vi.advanceTimersByTime(101);
    expect(expired).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([1, 2]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([1, 2, 3]);
  });

  it('does not keep the process alive while nothing waits, and does again once something does', () => {
    const o = owner();
    o.send(1, 1_000);
    const timers = () => (o.deadlines as unknown as { lanes: Map<number, { timer?: NodeJS.Timeout }> }).lanes.get(1_000)!.timer!;
    expect(timers().hasRef()).toBe(true);
    o.waiting.delete(1);
    o.deadlines.idle();
    expect(timers().hasRef()).toBe(false);
    o.send(2, 1_000);
    expect(timers().hasRef()).toBe(true);
  });

  it('stops every timer on clear', () => {
    const o = owner();
    o.send(1, 100);
    o.deadlines.clear();
    vi.advanceTimersByTime(1_000);
    expect(o.expired).toEqual([]);
  });
});
