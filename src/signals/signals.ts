/**
 * A plain, serialisable snapshot of what is known about one call beyond the call itself.
 * Produced by collectSignals (which reads and updates the StateStore); read by the pure
 * evaluate(). Counts include the current call.
 */
export interface Signals {
  readonly rate: {
    readonly windowMs: number;
    /** Calls to this tool by this user+agent in the window. */
    readonly tool: number;
    /** Calls to tools of this class by this user+agent in the window. */
    readonly toolClass: number;
    /** All calls by this user+agent in the window. */
    readonly overall: number;
    /** All calls by this user (any agent) in the window. */
    readonly user: number;
  };
  /** This user+agent's current bucket against its own baseline, plus the same for the user. */
  readonly burst: BurstSignal & { readonly user: BurstSignal };
  readonly volume: {
    readonly windowMs: number;
    /** Result bytes returned to this user+agent in the window (from observeOutcome). */
    readonly bytes: number;
    readonly items: number;
    /** Distinct resources (resource-like argument values) touched in the window. */
    readonly distinctResources: number;
    /** Result bytes / items returned to this user across all agents in the window. */
    readonly userBytes: number;
    readonly userItems: number;
  };
  readonly novelty: {
    /** First call of this upstream tool by this user+agent (within the memory horizon). */
    readonly tool: boolean;
    /** Names of configured sensitive arguments whose value this user has not used before. */
    readonly arguments: readonly string[];
  };
  readonly context: {
    /** The session's remote address differs from the one it started with. */
    readonly addressChanged: boolean;
    /** The session's client (clientInfo / user agent) differs from the one it started with. */
    readonly clientChanged: boolean;
  };
  /** False when the state store reported itself unhealthy: counts may be incomplete. */
  readonly storeHealthy: boolean;
}

export interface BurstSignal {
  /** Calls in the current bucket. */
  readonly current: number;
  /** EWMA of calls per (active) bucket, undefined before the first bucket completes. */
  readonly baseline: number | undefined;
  /** Completed buckets folded into the baseline. */
  readonly samples: number;
}

/** Settings collectSignals needs; derived from the policy by signalOptionsFor(). */
export interface SignalOptions {
  readonly rateWindowMs: number;
  /** Class of this call's tool (per-class rate key). */
  readonly toolClass: string;
  readonly burstBucketMs: number;
  readonly burstAlpha: number;
  readonly volumeWindowMs: number;
  /** Top-level argument names treated as resources for the distinct-resource count. */
  readonly resourceArgs: readonly string[];
  /** Sensitive argument values to remember for novelty, already filtered to this tool. */
  readonly noveltyArguments: readonly { readonly name: string; readonly path: string }[];
  readonly rememberMs: number;
}

/** Options for callers without a policy at hand (one class, default windows, no novelty values). */
export const DEFAULT_SIGNAL_OPTIONS: SignalOptions = {
  rateWindowMs: 60_000,
  toolClass: 'default',
  burstBucketMs: 60_000,
  burstAlpha: 0.3,
  volumeWindowMs: 600_000,
  resourceArgs: ['path', 'paths', 'uri', 'url', 'id', 'file', 'source', 'destination'],
  noveltyArguments: [],
  rememberMs: 90 * 86_400_000,
};

/** Signals with nothing observed: the first call of a new principal. */
export function emptySignals(windowMs = 60_000): Signals {
  return {
    rate: { windowMs, tool: 1, toolClass: 1, overall: 1, user: 1 },
    burst: { current: 1, baseline: undefined, samples: 0, user: { current: 1, baseline: undefined, samples: 0 } },
    volume: { windowMs, bytes: 0, items: 0, distinctResources: 0, userBytes: 0, userItems: 0 },
    novelty: { tool: false, arguments: [] },
    context: { addressChanged: false, clientChanged: false },
    storeHealthy: true,
  };
}
