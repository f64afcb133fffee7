/** How early a timer may fire and still count (Node timers count from the loop's cached time). */
const SLACK_MS = 1;
/** Stale entries tolerated beyond the pending count before a lane is compacted. */
const COMPACT_SLACK = 64;

/** What the deadlines of one connection ask of their owner. */
export interface DeadlineOwner {
  /**
   * The requests still waiting for their answer, by id: answered ones are skipped when they fall
   * due, and their count bounds the entries kept for requests already answered.
   */
  readonly waiting: ReadonlyMap<number, unknown>;
  /** A waiting request's time is up. */
  expire(id: number, ms: number): void;
}

/**
 * Request deadlines of one upstream connection on one timer per timeout length, instead of a
 * setTimeout and a clearTimeout per request. Requests with the same timeout fall due in the order
 * they were sent, so each length is a FIFO lane; an answered request is not removed from its lane
 * (that would cost per call) but skipped when it falls due, and a lane holding far more entries
 * than there are pending requests is compacted, so memory stays bounded by the pending count.
 * While nothing is pending the timers do not keep the process alive, as cleared timeouts would not.
 */
export class Deadlines {
  private readonly lanes = new Map<number, Lane>();
  private referenced = true;

  constructor(private readonly owner: DeadlineOwner) {}

  /** Starts the clock for request `id`: `owner.expire(id, ms)` runs after `ms` unless it was answered. */
  add(id: number, ms: number): void {
    if (!this.referenced) {
      this.referenced = true;
      for (const lane of this.lanes.values()) lane.ref(true);
    }
    let lane = this.lanes.get(ms);
    if (lane === undefined) this.lanes.set(ms, (lane = new Lane(ms, this.owner)));
    lane.add(id);
  }

  /** Nothing is pending any more. */
  idle(): void {
    if (!this.referenced) return;
    this.referenced = false;
    for (const lane of this.lanes.values()) lane.ref(false);
  }

  /** Stops every timer (the connection is closing). */
  clear(): void {
    for (const lane of this.lanes.values()) lane.stop();
    this.lanes.clear();
  }
}

class Lane {
  private ids: number[] = [];
  private dues: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private referenced = true;

  constructor(
    private readonly ms: number,
    private readonly owner: DeadlineOwner,
  ) {}

  add(id: number): void {
    this.ids.push(id);
    this.dues.push(performance.now() + this.ms);
    if (this.timer === undefined) this.arm(this.ms);
    if (this.ids.length - this.head > 2 * this.owner.waiting.size + COMPACT_SLACK) this.compact();
  }

  ref(on: boolean): void {
    this.referenced = on;
    if (on) this.timer?.ref();
    else this.timer?.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(delay)));
    if (!this.referenced) this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const limit = performance.now() + SLACK_MS;
    // Fields, not locals: an expiry handler may send again (add) and even compact this lane.
    while (this.head < this.ids.length && this.dues[this.head]! <= limit) {
      const id = this.ids[this.head++]!;
      if (this.owner.waiting.has(id)) this.owner.expire(id, this.ms);
    }
    // Answered requests at the front need no timer of their own: wait for the first pending one.
    while (this.head < this.ids.length && !this.owner.waiting.has(this.ids[this.head]!)) this.head++;
    if (this.head >= this.ids.length) {
      this.ids = [];
      this.dues = [];
      this.head = 0;
      this.stop();
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.ids.length) this.compact();
    if (this.timer === undefined) this.arm(this.dues[this.head]! - performance.now());
  };

  /** Drops the entries of answered requests (and those already expired). */
  private compact(): void {
    const ids: number[] = [];
    const dues: number[] = [];
    for (let i = this.head; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      if (this.owner.waiting.has(id)) {
        ids.push(id);
        dues.push(this.dues[i]!);
      }
    }
    this.ids = ids;
    this.dues = dues;
    this.head = 0;
    if (ids.length === 0) this.stop();
  }
}
