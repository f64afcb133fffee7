import type { Timers } from './timers.js';

interface Waiter {
  grant(): void;
}

interface Lane {
  active: number;
  /** Calls that are waiting (for a token or a slot); bounded by maxQueued. */
  queued: number;
  readonly waiters: Waiter[];
}

/** Per-key concurrency cap with a bounded FIFO of waiters. Lanes are dropped when idle. */
export class ConcurrencySlots {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly maxActive: number,
    private readonly maxQueued: number,
    private readonly timers: Timers,
  ) {}

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { active: 0, queued: 0, waiters: [] };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private dropIfIdle(key: string, lane: Lane): void {
    if (lane.active === 0 && lane.queued === 0) this.lanes.delete(key);
  }

  canQueue(key: string): boolean {
    const lane = this.lanes.get(key);
    return !lane || lane.queued < this.maxQueued || (lane.queued === 0 && lane.active < this.maxActive);
  }

  enterQueue(key: string): void {
    this.lane(key).queued += 1;
  }

  leaveQueue(key: string): void {
    const lane = this.lane(key);
    lane.queued -= 1;
    this.dropIfIdle(key, lane);
  }

  /** Takes a slot (the caller must have entered the queue). Leaves the queue on every outcome. */
  acquire(key: string, maxWaitMs: number, signal: AbortSignal): Promise<'ok' | 'timeout' | 'cancelled'> {
    const lane = this.lane(key);
    if (lane.active < this.maxActive && lane.waiters.length === 0) {
      lane.queued -= 1;
      lane.active += 1;
      return Promise.resolve('ok');
    }
    return new Promise((resolve) => {
      const finish = (result: 'ok' | 'timeout' | 'cancelled'): void => {
        this.timers.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = lane.waiters.indexOf(waiter);
        if (i >= 0) lane.waiters.splice(i, 1);
        lane.queued -= 1;
        if (result === 'ok') lane.active += 1;
        else this.dropIfIdle(key, lane);
        resolve(result);
      };
      const waiter: Waiter = { grant: () => finish('ok') };
      const onAbort = (): void => finish('cancelled');
      const timer = this.timers.setTimeout(() => finish('timeout'), maxWaitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      lane.waiters.push(waiter);
    });
  }

  release(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    lane.active = Math.max(0, lane.active - 1);
    const next = lane.waiters[0];
    if (next && lane.active < this.maxActive) next.grant();
    else this.dropIfIdle(key, lane);
  }
}
