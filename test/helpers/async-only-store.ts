import type { SignalOptions } from '../../src/signals/signals.js';
import type { MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';

/**
 * The in-memory store seen only through the async StateStore methods: collectSignals then takes
 * its general path, so a test can compare it with the synchronous fast path on the same calls.
 */
export function asyncOnly(inner: MemoryStateStore): StateStore {
  return {
    get: (k) => inner.get(k),
    set: (k, v, t) => inner.set(k, v, t),
    delete: (k) => inner.delete(k),
    setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t),
    addToWindow: (k, a, w, n) => inner.addToWindow(k, a, w, n),
    addToWindows: (g, m, a, w, n) => inner.addToWindows(g, m, a, w, n),
    sumWindow: (k, w, n) => inner.sumWindow(k, w, n),
    keys: (p) => inner.keys(p),
    healthy: () => inner.healthy(),
  };
}

/** Signal options with every signal on (rate, burst, volume, resources, payee novelty). */
export const ALL_SIGNALS: SignalOptions = {
  rateWindowMs: 60_000, toolClass: 'payments', burstBucketMs: 10_000, burstAlpha: 0.5, volumeWindowMs: 600_000,
  resourceArgs: ['path', 'id'], noveltyArguments: [{ name: 'payee', path: 'payee' }], rememberMs: 86_400_000,
};
