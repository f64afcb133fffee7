import type { StateStore } from '../state/state-store.js';
import { stepBurst, type BurstState } from './burst.js';
import { burstSignal, contextOf, noveltyValues, rateMembers, scanResources, type SessionRecord, type SignalRequest } from './signal-parts.js';
import type { SignalOptions, Signals } from './signals.js';
import { keys, members, principalKeys } from './state-keys.js';

const ZEROS3 = [0, 0, 0] as const;
const ZEROS2 = [0, 0] as const;

/**
 * The signals a call would see if it were made now, read without counting it: warden re-judging
 * something the agent did not ask for again (a standing subscription, after a policy reload or an
 * upstream restart) must not raise the agent's rate, burst or distinct-resource counts, nor make
 * anything "seen". Counts are what collectSignals would return for the call (the stored counts
 * plus this call), so a limit the agent is at now judges the re-check as it would a new request.
 * Nothing is written: sums of zero amounts only read (StateStore.addToWindows), the burst state
 * is stepped in memory, a session without a record counts as unchanged. Store faults propagate.
 */
export async function peekSignals(store: StateStore, req: SignalRequest, now: number, o: SignalOptions): Promise<Signals> {
  const k = principalKeys(req.principal);
  const rw = o.rateWindowMs;
  const vw = o.volumeWindowMs;
  const [pairRates, userRates, pairVol, userVol, own, user, session, toolSeen] = await Promise.all([
    store.addToWindows(k.pairGroup, rateMembers(req, o), ZEROS3, rw, now),
    store.addToWindows(k.userGroup, members.userRate, [0], rw, now),
    store.addToWindows(k.pairGroup, members.vol, ZEROS3, vw, now),
    store.addToWindows(k.userGroup, members.results, ZEROS2, vw, now),
    store.get<BurstState>(k.burst),
    store.get<BurstState>(k.userBurst),
    store.get<SessionRecord>(keys.session(req.sessionId)),
    store.get(keys.toolSeen(k.pk, req.upstream, req.tool)),
  ]);
  const resources = scanResources(req, o.resourceArgs);
  let fresh = resources.unchecked;
  for (const value of resources.values) {
    if ((await store.get(keys.resourceSeen(k.pk, req.upstream, req.tool, value))) === undefined) fresh++;
  }
  const args: string[] = [];
  for (const n of o.noveltyArguments) {
    const found = noveltyValues(req.arguments, n.path);
    let novel = found.overflow;
    for (const v of found.keys) if (!novel && (await store.get(keys.valueSeen(k.uk, req.upstream, n.name, v))) === undefined) novel = true;
    if (novel) args.push(n.name);
  }
  const current = contextOf(req);
  const ownSignal = burstSignal(stepBurst(own, now, o.burstBucketMs, o.burstAlpha));
  return {
    rate: { windowMs: rw, tool: (pairRates[0] ?? 0) + 1, toolClass: (pairRates[1] ?? 0) + 1, overall: (pairRates[2] ?? 0) + 1, user: (userRates[0] ?? 0) + 1 },
    burst: { ...ownSignal, user: burstSignal(stepBurst(user, now, o.burstBucketMs, o.burstAlpha)) },
    volume: {
      windowMs: vw, bytes: pairVol[0] ?? 0, items: pairVol[1] ?? 0, distinctResources: (pairVol[2] ?? 0) + fresh,
      userBytes: userVol[0] ?? 0, userItems: userVol[1] ?? 0,
    },
    novelty: { tool: toolSeen === undefined, arguments: args },
    context: session
      ? { addressChanged: session.address !== current.address, clientChanged: session.client !== current.client }
      : { addressChanged: false, clientChanged: false },
    storeHealthy: store.healthy(),
  };
}
