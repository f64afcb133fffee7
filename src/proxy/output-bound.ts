/**
 * What a peer has left unread when it passed its bound: the peer's output is ended, so the caller
 * says who it was and why it went.
 */
export interface OutputOverflow {
  /** Bytes warden held for the peer when the bound was passed. */
  readonly bufferedBytes: number;
  readonly limitBytes: number;
}

/**
 * The bound on output warden buffers for one peer that does not read it (an agent that never
 * reads its SSE stream or its stdout, an upstream child that never reads its stdin). Without it
 * one stuck or hostile peer grows warden's memory without limit, and in HTTP mode that memory is
 * every agent's. Checked after each write, from the writer's own byte count: no timers.
 *
 * A single message may be larger than the bound (results up to `limits.maxUpstreamMessageBytes`
 * are legitimate), and a peer that reads is still busy with it while the next messages arrive. So
 * the bound applies on top of the largest single write since the peer's buffer was last seen
 * empty: memory held for a peer stays below `maxBytes` + one large message + the write at hand.
 */
export class OutputBound {
  private largestWrite = 0;
  private tripped = false;

  constructor(
    readonly maxBytes: number,
    private readonly onOverflow: (overflow: OutputOverflow) => void,
  ) {}

  /** True once the bound was passed: the peer is being ended, nothing more is written to it. */
  get overflowed(): boolean {
    return this.tripped;
  }

  /**
   * Reports one write of `bytes` after which `buffered` bytes are waiting for the peer (this write
   * included). `exact` recomputes `buffered` when the caller's figure may be an overestimate. The
   * first time the bound is passed `onOverflow` runs (once) and this returns true.
   */
  afterWrite(bytes: number, buffered: number, exact?: () => number): boolean {
    if (this.tripped) return true;
    // Nothing older than this write is left: the peer read everything before it.
    if (buffered <= bytes) this.largestWrite = bytes;
    else if (bytes > this.largestWrite) this.largestWrite = bytes;
    const limit = this.maxBytes + this.largestWrite;
    if (buffered <= limit) return false;
    if (exact !== undefined && (buffered = exact()) <= limit) return false;
    // Fail closed for this peer only: ending its output is the honest failure; dropping some of
    // its messages instead would leave it believing it saw everything.
    this.tripped = true;
    this.onOverflow({ bufferedBytes: buffered, limitBytes: this.maxBytes });
    return true;
  }
}
