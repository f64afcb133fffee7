/**
 * Decides which unauthenticated HTTP requests get an `identity.failed` record of their own.
 *
 * Every record is a synchronous, hash-chained write, and a full audit disk makes warden block
 * every call (fail closed). Recording each rejected request therefore let anyone who can reach
 * the port, without any credential, fill the audit disk and take warden down for everyone. Per
 * window, each source address gets its first `perSource` failures recorded in full, and all
 * sources together at most `total`; the rest are counted and written as one
 * `identity.failures_suppressed` record when the window ends (or warden stops): how many, for
 * which reasons, from how many addresses, and the addresses that failed most. The audit grows
 * by a bounded number of records per window whatever the request rate.
 * The same holds for the control API's failed authentications (src/control/control-server.ts):
 * one sampler per listener, the summary names the listener as `transport`; and for SETs the
 * security event receiver refuses (`events`: the reasons are the RFC 8935 `err` codes).
 */

export interface SamplerLimits {
  /** Failures recorded in full per source address per window. */
  readonly perSource: number;
  /** Failures recorded in full per window, all sources together. */
  readonly total: number;
  readonly windowMs: number;
  /** Source addresses tracked per window (an IPv6 sweep mints them at will); past it only totals. */
  readonly maxSources: number;
  /** Sources named in the summary, most failures first. */
  readonly topSources: number;
}

export const DEFAULT_SAMPLER_LIMITS: SamplerLimits = { perSource: 10, total: 200, windowMs: 60_000, maxSources: 10_000, topSources: 5 };

/** The listener whose failures a sampler counts: the MCP HTTP listener, the control API, the SET receiver. */
export type FailureTransport = 'http' | 'control' | 'events';

export interface SuppressedSummary {
  readonly transport: FailureTransport;
  /** Window start and end (epoch ms). */
  readonly since: number;
  readonly until: number;
  /** Failures not recorded one by one in the window. */
  readonly count: number;
  /** Suppressed failures per reason code. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Distinct source addresses among them (at most maxSources are told apart). */
  readonly sources: number;
  readonly top: ReadonlyArray<{ readonly remoteAddress: string; readonly count: number }>;
}

export class IdentityFailureSampler {
  private windowStart = 0;
  private recorded = 0;
  /** Per source in this window: failures recorded in full, and failures suppressed. */
  private readonly bySource = new Map<string, { recorded: number; suppressed: number }>();
  private suppressed = 0;
  private reasons = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly writeSummary: (summary: SuppressedSummary) => void,
    private readonly clock: () => number = Date.now,
    private readonly limits: SamplerLimits = DEFAULT_SAMPLER_LIMITS,
    private readonly transport: FailureTransport = 'http',
  ) {}

  /** True when this failure gets its own record; otherwise it is counted for the summary. */
  admit(remoteAddress: string | undefined, reason: string): boolean {
    const now = this.clock();
    if (now >= this.windowStart + this.limits.windowMs) this.startWindow(now);
    const key = remoteAddress ?? 'unknown';
    let source = this.bySource.get(key);
    if (source === undefined && this.bySource.size < this.limits.maxSources) {
      source = { recorded: 0, suppressed: 0 };
      this.bySource.set(key, source);
    }
    if (source !== undefined && source.recorded < this.limits.perSource && this.recorded < this.limits.total) {
      source.recorded += 1;
      this.recorded += 1;
      return true;
    }
    if (source !== undefined) source.suppressed += 1;
    this.suppressed += 1;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    // The summary is due when the window ends, even if no further failure comes to close it.
    this.timer ??= setTimeout(() => this.flush(), this.windowStart + this.limits.windowMs - now).unref();
    return false;
  }

  /** Writes the summary of what was suppressed so far (if anything) and starts a new window. */
  flush(): void {
    this.startWindow(this.clock());
  }

  /** At shutdown: the last window's summary is written, and no timer is left behind. */
  close(): void {
    this.flush();
  }

  private startWindow(now: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed > 0) this.writeSummary(this.summary(now));
    this.windowStart = now;
    this.recorded = 0;
    this.suppressed = 0;
    this.bySource.clear();
    this.reasons = new Map();
  }

  private summary(now: number): SuppressedSummary {
    const failing = [...this.bySource].filter(([, s]) => s.suppressed > 0);
    const top = failing
      .sort((a, b) => b[1].suppressed - a[1].suppressed)
      .slice(0, this.limits.topSources)
      .map(([remoteAddress, s]) => ({ remoteAddress, count: s.suppressed }));
    return {
      transport: this.transport,
      since: this.windowStart,
      until: now,
      count: this.suppressed,
      reasons: Object.fromEntries(this.reasons),
      sources: failing.length,
      top,
    };
  }
}
