/**
 * Runs a save for many requests: requests made while a save waits to start share it, and a
 * request made while one runs gets the next one (which starts after it, so it sees everything
 * in force at that request). A burst of N revocations costs a few file writes, not N, and each
 * caller still learns whether a write that covers its entry succeeded.
 */
export class CoalescingSaver {
  private running: Promise<unknown> | undefined;
  private queued: Promise<Error | undefined> | undefined;

  constructor(private readonly save: () => Promise<void>) {}

  /** Resolves once a save that started after this call has ended: undefined on success, else its error. */
  request(): Promise<Error | undefined> {
    if (this.queued) return this.queued;
    const queued = (this.running ?? Promise.resolve())
      // One macrotask: requests from the same burst of I/O (several SETs read at once) join this save.
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.queued = undefined;
        const run = this.attempt();
        this.running = run;
        return run;
      });
    this.queued = queued;
    return queued;
  }

  /** Resolves when no save runs or waits (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.queued ?? this.running) await (this.queued ?? this.running);
  }

  private async attempt(): Promise<Error | undefined> {
    try {
      await this.save();
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      if (this.queued === undefined) this.running = undefined;
    }
  }
}
