import type { SignalOptions } from '../signals/signals.js';
import { toolClassOf } from '../risk/sensitivity.js';
import type { CompiledPolicy } from './compiled-policy.js';

/** The settings collectSignals/observeOutcome need for one call, derived from the policy. */
export function signalOptionsFor(policy: CompiledPolicy, call: { upstream: string; tool: string }): SignalOptions {
  const a = policy.anomalies;
  return {
    rateWindowMs: a.rate.windowMs,
    toolClass: toolClassOf(policy.lookup(call.upstream, call.tool)),
    burstBucketMs: a.burst.bucketMs,
    burstAlpha: a.burst.alpha,
    volumeWindowMs: a.volume.windowMs,
    resourceArgs: a.volume.resourceArgs,
    noveltyArguments: a.novelty.arguments.filter((n) => n.tools(call.tool)).map((n) => ({ name: n.name, path: n.path })),
    rememberMs: a.novelty.rememberMs,
  };
}
