import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../logging/logger.js';

/**
 * Keeps the standing GET stream of one Streamable HTTP upstream open for as long as its session
 * lives. That stream carries everything the server sends on its own (`resources/updated`,
 * `list_changed`, logging, server→client requests). The SDK client transport (1.32) opens it after
 * `notifications/initialized` and, when it breaks, re-opens it `maxRetries` (2) times; then it
 * gives up for good, reporting only `Error('Maximum reconnection attempts (2) exceeded.')` to
 * `onerror`. A first opening that fails (HTTP 500, 503, ...) is not retried at all. Either way the
 * upstream's notifications would stop silently until some later session recovery.
 *
 * The SDK keeps its own quick retries (they resume with `Last-Event-ID` and honour a server's
 * `retry:`); the keeper takes over only once the SDK has stopped, re-opens the stream through the
 * SDK's public `resumeStream` with capped, jittered exponential backoff, and says so: a warning
 * and a `lost` report when it takes over, an info line and a `restored` report when a stream is
 * open again. It never retries a `405` (the server offers no GET stream, which the spec allows),
 * leaves a `404` to the lost-session recovery, and stops with the transport (its abort signal):
 * no timer or fetch outlives the session.
 */

/** What the keeper reports about the standing GET stream (the session audits it). */
export type StreamNews =
  | { readonly kind: 'lost'; readonly reason: string }
  | { readonly kind: 'restored'; readonly attempts: number; readonly downMs: number };

export type StreamReporter = (news: StreamNews) => void;

/** The one SDK transport method the keeper drives. */
export interface StreamOpener {
  resumeStream(lastEventId: string): Promise<void>;
}

export interface StreamKeeperTiming {
  /** Base delay before the keeper's first attempt; doubles per failed attempt. */
  readonly firstDelayMs: number;
  /** Cap on the base delay; also how long a stream must stay up before the backoff starts over. */
  readonly maxDelayMs: number;
  /** Jitter source in [0, 1): each delay is drawn from [base / 2, base). */
  readonly random: () => number;
  readonly now: () => number;
  /** Least time between two GET openings (see {@link MIN_GET_INTERVAL_MS}); none when absent. */
  readonly minGetIntervalMs?: number;
}

/**
 * Least time between two GETs warden opens to one upstream session: the SDK's own first
 * reconnection delay. The SDK re-opens a stream the server ended cleanly at once when the server
 * asked for `retry: 0`, and counts every successful opening as a fresh start, so a server that
 * answers each GET with `retry: 0` and an ended stream had warden open GETs in a tight loop (over
 * a hundred a second, a large share of a core, per agent session).
 */
export const MIN_GET_INTERVAL_MS = 1_000;

export const DEFAULT_STREAM_TIMING: StreamKeeperTiming = {
  firstDelayMs: 500,
  maxDelayMs: 30_000,
  random: Math.random,
  now: () => performance.now(),
  minGetIntervalMs: MIN_GET_INTERVAL_MS,
};

type State = 'sdk' | 'lost' | 'unsupported' | 'stopped';

export class StreamKeeper {
  /** `sdk`: the SDK holds the stream (or is re-opening it); `lost`: the keeper is re-opening it. */
  private state: State = 'sdk';
  private opener: StreamOpener | undefined;
  private signal: AbortSignal | undefined;
  /** GET response bodies still being read (the standing stream, or an SDK resumption of a POST stream). */
  private liveStreams = 0;
  private firstGetSeen = false;
  /** Status of a failed first opening, until the SDK reports it (after the lost-session check). */
  private firstGetFailure: number | undefined;
  private lastFailure: number | undefined;
  private attempting = false;
  private attemptStatus: number | undefined;
  private attempts = 0;
  private lostAt = 0;
  private restoredAt = Number.NEGATIVE_INFINITY;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** When the next GET may open (see MIN_GET_INTERVAL_MS). */
  private nextGetAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly upstream: string,
    private readonly logger: Logger,
    private readonly report: StreamReporter,
    private readonly timing: StreamKeeperTiming = DEFAULT_STREAM_TIMING,
  ) {
    this.delayMs = timing.firstDelayMs;
  }

  /** The transport whose stream is kept; called once, right after it is built. */
  attach(opener: StreamOpener): void {
    this.opener = opener;
  }

  /**
   * Wraps the transport's fetch (outermost, so it sees the SDK's own abort signal and the final
   * response): notes every GET's status, counts GET bodies still open, and stops with the transport.
   */
  watch(base: FetchLike): FetchLike {
    return async (url, init) => {
      this.bind(init?.signal ?? undefined);
      if (init?.method !== 'GET') return base(url, init);
      const fresh = !new Headers(init.headers).has('last-event-id');
      await this.paced(init.signal ?? undefined);
      const response = await base(url, init);
      this.sawGet(response.status, fresh);
      if (!response.ok || !response.body) return response;
      this.liveStreams += 1;
      const body = onEnd(response.body, () => void (this.liveStreams -= 1));
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  }

  /**
   * Hears the SDK's `onerror` reports that are not a lost session (the connection checks that
   * first, so a 404 or 400 "Server not initialized" restarts the session instead).
   */
  noticeError(err: unknown): void {
    if (this.state !== 'sdk') return;
    const last = this.lastFailure === undefined ? '' : ` (last HTTP ${this.lastFailure})`;
    if (err instanceof Error && err.message.startsWith('Maximum reconnection attempts')) {
      // A standing stream still open means the chain that gave up was a resumed POST stream.
      if (this.liveStreams === 0) this.lose(`the SDK gave up re-opening it${last}`);
      return;
    }
    if (this.firstGetFailure !== undefined) {
      const status = this.firstGetFailure;
      this.firstGetFailure = undefined;
      this.lose(`its first opening was answered HTTP ${status}, which the SDK does not retry`);
    }
  }

  /** Stops for good: no further attempt, no timer left. Idempotent. */
  stop(): void {
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Waits until a GET may open: at most one per `minGetIntervalMs`, whoever opens it (the SDK's
   * re-openings and resumptions, the keeper's tries). Rejects like fetch when the transport closes
   * meanwhile, so nothing opens after the session ended.
   */
  private paced(signal: AbortSignal | undefined): Promise<void> {
    const now = this.timing.now();
    const wait = this.nextGetAt - now;
    this.nextGetAt = Math.max(now, this.nextGetAt) + (this.timing.minGetIntervalMs ?? 0);
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const aborted = (): void => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      }, wait);
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  private bind(signal: AbortSignal | undefined): void {
    if (!signal || this.signal) return;
    this.signal = signal;
    // The SDK aborts this signal in close(): the session ended or is being replaced.
    if (signal.aborted) this.stop();
    else signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  private sawGet(status: number, fresh: boolean): void {
    // A redirect is not an answer: the SDK fetches with redirect 'manual' and follows same-origin
    // ones itself, through this fetch again, so the final status comes next.
    if (status >= 300 && status < 400) return;
    // The keeper's own try is a fresh GET; the SDK's resumptions carry Last-Event-ID.
    if (this.attempting && fresh) this.attemptStatus = status;
    if (status === 405) return this.unsupported();
    const ok = status >= 200 && status < 300;
    this.lastFailure = ok ? undefined : status;
    // A stream that opened after all: an earlier failed opening is no longer news.
    if (ok) this.firstGetFailure = undefined;
    // The SDK's first GET without Last-Event-ID is its only try at opening the stream. A 404 is
    // left to the lost-session recovery, which starts a new session and so a new stream.
    if (fresh && !this.firstGetSeen) {
      this.firstGetSeen = true;
      if (!ok && status !== 404) this.firstGetFailure = status;
    }
  }

  private lose(reason: string): void {
    const now = this.timing.now();
    this.state = 'lost';
    this.lostAt = now;
    this.attempts = 0;
    // Only a stream that stayed up starts the backoff over: one that keeps breaking right after
    // each re-opening keeps the longer delay instead of a loud lost/restored pair every second.
    if (now - this.restoredAt >= this.timing.maxDelayMs) this.delayMs = this.timing.firstDelayMs;
    this.logger.warn({ upstream: this.upstream, reason }, 'upstream GET stream lost: its server-initiated messages stop until warden re-opens it; retrying with backoff');
    this.report({ kind: 'lost', reason });
    this.schedule();
  }

  private schedule(): void {
    const base = this.delayMs;
    this.delayMs = Math.min(base * 2, this.timing.maxDelayMs);
    const delay = base / 2 + (this.timing.random() * base) / 2;
    this.timer = setTimeout(() => void this.attempt(), delay);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    if (this.state !== 'lost' || !this.opener) return;
    this.attempts += 1;
    this.attempting = true;
    this.attemptStatus = undefined;
    try {
      // '' sends no Last-Event-ID: a fresh standing stream. Events sent while none was open are
      // gone (a stale id could be refused forever); the SDK resumes later breaks itself.
      await this.opener.resumeStream('');
    } catch {
      // Its HTTP status was noted by watch(); a lost session or a closed transport stops the keeper.
    } finally {
      this.attempting = false;
    }
    // Read through a method: TypeScript keeps the narrowing from before the await.
    if (this.currentState() !== 'lost') return;
    const status = this.attemptStatus;
    if (status !== undefined && status >= 200 && status < 300) return this.restored();
    this.logger.debug({ upstream: this.upstream, attempt: this.attempts, status }, 'upstream GET stream still not open');
    this.schedule();
  }

  private currentState(): State {
    return this.state;
  }

  private restored(): void {
    const now = this.timing.now();
    const downMs = Math.round(now - this.lostAt);
    this.state = 'sdk';
    this.restoredAt = now;
    this.firstGetFailure = undefined;
    this.logger.info({ upstream: this.upstream, attempts: this.attempts, downMs }, 'upstream GET stream re-opened: server-initiated messages flow again');
    this.report({ kind: 'restored', attempts: this.attempts, downMs });
  }

  /** HTTP 405: the server offers no standing stream (allowed by the spec). Never retried. */
  private unsupported(): void {
    if (this.state === 'unsupported' || this.state === 'stopped') return;
    const wasLost = this.state === 'lost';
    this.stop();
    this.state = 'unsupported';
    if (wasLost) this.logger.info({ upstream: this.upstream }, 'upstream now answers its GET stream with HTTP 405 (it offers none): not retried');
    else this.logger.debug({ upstream: this.upstream }, 'upstream offers no GET stream (HTTP 405)');
  }
}

/** Passes a body through unchanged and calls `ended` once when it is done, fails or is cancelled. */
function onEnd(source: ReadableStream<Uint8Array>, ended: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    ended();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.read().catch((err: unknown) => {
        end();
        throw err;
      });
      if (chunk.done) {
        end();
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel: (reason) => {
      end();
      return reader.cancel(reason);
    },
  });
}
