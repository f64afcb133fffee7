import type { ServerResponse } from 'node:http';

/**
 * What one HTTP session's open event streams (the GET stream, POSTs answered as SSE) hold that
 * the agent has not read: the sum of their `writableLength`. One agent can hold many streams, so
 * the bound is on the sum, not per stream. The sum is kept from each stream's figure at its own
 * last write, so a write costs O(1); a figure can only be stale on the high side (a response
 * grows only through writes, which refresh it, and shrinks as the agent reads), and `exact()`
 * re-reads them all when the cheap sum says the bound may be passed.
 */
export class StreamBacklog {
  private readonly figures = new Map<ServerResponse, number>();
  private total = 0;

  /** Refreshes one response's figure after a write to it and returns the (possibly high) total. */
  update(res: ServerResponse): number {
    const previous = this.figures.get(res);
    // Tracked until it closes: a finished response can still hold bytes the agent has not read.
    if (previous === undefined) res.once('close', () => this.forget(res));
    const now = res.writableLength;
    this.figures.set(res, now);
    this.total += now - (previous ?? 0);
    return this.total;
  }

  /** The total re-read from every open response. */
  exact(): number {
    let total = 0;
    for (const res of this.figures.keys()) {
      const now = res.writableLength;
      this.figures.set(res, now);
      total += now;
    }
    this.total = total;
    return total;
  }

  /** Ends every open stream now, dropping what the agent did not read. */
  destroyAll(): void {
    for (const res of [...this.figures.keys()]) res.destroy();
  }

  private forget(res: ServerResponse): void {
    this.total -= this.figures.get(res) ?? 0;
    this.figures.delete(res);
  }
}
