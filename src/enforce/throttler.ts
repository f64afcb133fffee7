import type { Clock } from '../core/clock.js';
import type { Decision } from '../core/decision.js';
import { principalKey, userKey } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import type { ThrottleBucket, ThrottleConfig } from './throttle-config.js';
import { abortableDelay, systemTimers, type Timers } from './timers.js';
import { TokenBuckets } from './token-buckets.js';
import { ConcurrencySlots } from './concurrency-slots.js';

export type ThrottleRejectReason = 'rate' | 'concurrency' | 'queue_full' | 'cancelled';

export type ThrottleResult =
  | { readonly ok: true; readonly waitedMs: number; release(): void }
  | { readonly ok: false; readonly retryAfterMs: number; readonly reason: ThrottleRejectReason };

export interface Throttler {
  /**
   * Waits for a token in every applicable bucket and a concurrency slot, up to `maxWaitMs`.
   * Call `release()` once the upstream answered (idempotent).
   */
  acquire(req: ToolCallRequest, decision: Decision): Promise<ThrottleResult>;
}

function bucketKey(b: ThrottleBucket, req: ToolCallRequest, decision: Decision): string {
  const p = req.principal;
  switch (b.key) {
    case 'user':
      return `user:${userKey(p)}`;
    case 'user_agent':
      return `user_agent:${principalKey(p)}`;
    case 'tool':
      return `tool:${req.upstream}/${req.tool}`;
    case 'tool_class':
      return `tool_class:${decision.toolClass}`;
    default: {
      const never: never = b.key;
      throw new Error(`unknown throttle key ${String(never)}`);
    }
  }
}

/**
 * Creates the throttler: per-key token buckets that delay a call up to `maxWaitMs`, a per-principal
 * concurrency cap with a bounded wait queue, and rejection with `retryAfterMs` beyond that.
 */
export function createThrottler(
  config: ThrottleConfig,
  deps: { clock?: Clock; timers?: Timers } = {},
): Throttler {
  const clock = deps.clock ?? ((): number => Date.now());
  const timers = deps.timers ?? systemTimers;
  const buckets = new TokenBuckets(config.maxKeys);
  const slots = new ConcurrencySlots(config.maxConcurrentPerPrincipal, config.maxQueuedPerPrincipal, timers);
  const rate = (b: ThrottleBucket): number => b.ratePerMinute / 60_000;

  return {
    async acquire(req, decision) {
      if (req.signal.aborted) return { ok: false, retryAfterMs: 0, reason: 'cancelled' };
      const start = clock();
      const applied = config.buckets.map((b) => ({ b, key: bucketKey(b, req, decision) }));
      const tokenWait = Math.max(0, ...applied.map(({ b, key }) => buckets.waitFor(key, b.burst, rate(b), start)));
      if (tokenWait > config.maxWaitMs) return { ok: false, retryAfterMs: tokenWait, reason: 'rate' };
      const who = principalKey(req.principal);
      if (!slots.canQueue(who)) return { ok: false, retryAfterMs: Math.max(tokenWait, 1_000), reason: 'queue_full' };
      for (const { b, key } of applied) buckets.take(key, b.burst, rate(b), start);
      const refund = (): void => {
        for (const { b, key } of applied) buckets.refund(key, b.burst, rate(b), clock());
      };
      slots.enterQueue(who);
      // No timer for a zero wait: an immediate call must not yield to the event loop's timer phase.
      const waited = tokenWait === 0 ? !req.signal.aborted : await abortableDelay(tokenWait, timers, req.signal);
      if (!waited) {
        slots.leaveQueue(who);
        refund();
        return { ok: false, retryAfterMs: 0, reason: 'cancelled' };
      }
      // The token wait took at least tokenWait (a timer); a wall clock that stepped back meanwhile
      // must not make the remaining slot wait longer than what is left of maxWaitMs.
      const remaining = Math.max(0, config.maxWaitMs - Math.max(tokenWait, clock() - start));
      const slot = await slots.acquire(who, remaining, req.signal);
      if (slot !== 'ok') {
        refund();
        // A slot frees when some in-flight call finishes; a second is a conservative hint.
        return slot === 'cancelled'
          ? { ok: false, retryAfterMs: 0, reason: 'cancelled' }
          : { ok: false, retryAfterMs: 1_000, reason: 'concurrency' };
      }
      let released = false;
      return {
        ok: true,
        waitedMs: Math.max(0, clock() - start),
        release: () => {
          if (released) return;
          released = true;
          slots.release(who);
        },
      };
    },
  };
}
