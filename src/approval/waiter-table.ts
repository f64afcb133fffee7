import type { Clock } from '../core/clock.js';
import type { Timers } from '../enforce/timers.js';
import type { ApprovalOutcome, PendingApproval } from './approval-types.js';

interface Live {
  readonly record: PendingApproval;
  resolve(outcome: ApprovalOutcome): void;
  cleanup(): void;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly progressIntervalMs: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly sendProgress: ((progress: number, total?: number, message?: string) => void) | undefined;
  readonly onTimeout: () => void;
  readonly onAbort: () => void;
}

/** The in-process half of pending approvals: the live promise, its timers and its abort listener. */
export class WaiterTable {
  private readonly live = new Map<string, Live>();

  constructor(private readonly timers: Timers) {}

  get size(): number {
    return this.live.size;
  }

  get(id: string): PendingApproval | undefined {
    return this.live.get(id)?.record;
  }

  records(): PendingApproval[] {
    return [...this.live.values()].map((l) => l.record);
  }

  /** Registers the waiter; the returned promise settles only through {@link resolve}. */
  add(record: PendingApproval, o: WaitOptions): Promise<ApprovalOutcome> {
    return new Promise((resolve) => {
      let progressHandle: unknown;
      let lastProgress = -1;
      const timeoutHandle = this.timers.setTimeout(o.onTimeout, o.timeoutMs);
      const progress = (): void => {
        const leftS = Math.max(0, Math.ceil((record.expiresAt - o.clock()) / 1000));
        // Seconds waited, to a tenth: whole seconds repeated (0, 1, 1, 2…) with intervals under a
        // second, and MCP requires progress to increase with every notification.
        const waited = Math.round((o.clock() - record.createdAt) / 100) / 10;
        lastProgress = waited > lastProgress ? waited : Math.round(lastProgress * 10 + 1) / 10;
        try {
          // Clients that reset their timeout on progress keep waiting while a human decides.
          o.sendProgress?.(lastProgress, Math.round(o.timeoutMs / 1000), `waiting for approval, ${leftS} s left`);
        } catch {
          // A broken progress channel must not decide the call; the timeout still does.
        }
        progressHandle = this.timers.setTimeout(progress, o.progressIntervalMs);
      };
      if (o.sendProgress) progress();
      const onAbort = (): void => o.onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      this.live.set(record.id, {
        record,
        resolve,
        cleanup: () => {
          this.timers.clearTimeout(timeoutHandle);
          if (progressHandle !== undefined) this.timers.clearTimeout(progressHandle);
          o.signal.removeEventListener('abort', onAbort);
        },
      });
      if (o.signal.aborted) queueMicrotask(onAbort);
    });
  }

  /** Settles one waiter (no-op when already settled). */
  resolve(id: string, outcome: ApprovalOutcome): void {
    const l = this.live.get(id);
    if (!l) return;
    this.live.delete(id);
    l.cleanup();
    l.resolve(outcome);
  }
}
