import type { MaybePromise } from '../core/maybe-promise.js';
import type { UpstreamOutcome } from '../core/tool-call.js';
import type { StateStore } from '../state/state-store.js';
import { countBurst } from './burst.js';
import { collectSignalsSync, isSyncSignalStore, observeOutcomeSync } from './collect-signals-sync.js';
import { burstSignal, contextOf, noveltyValues, rateMembers, scanResources, SESSION_TTL_MS, type SessionRecord, type SignalRequest } from './signal-parts.js';
import { DEFAULT_SIGNAL_OPTIONS, type SignalOptions, type Signals } from './signals.js';
import { keys, members, principalKeys } from './state-keys.js';

export { valueKey, type SignalRequest } from './signal-parts.js';

async function countRates(store: StateStore, req: SignalRequest, now: number, o: SignalOptions): Promise<Signals['rate']> {
  const k = principalKeys(req.principal);
  const w = o.rateWindowMs;
  const [pair, user] = await Promise.all([
    store.addToWindows(k.pairGroup, rateMembers(req, o), [1, 1, 1], w, now),
    store.addToWindows(k.userGroup, members.userRate, [1], w, now),
  ]);
  const [tool, toolClass, overall] = pair as [number, number, number];
  return { windowMs: w, tool, toolClass, overall, user: user[0] as number };
}

async function readVolume(store: StateStore, req: SignalRequest, now: number, o: SignalOptions): Promise<Signals['volume']> {
  const k = principalKeys(req.principal);
  const w = o.volumeWindowMs;
  const resources = scanResources(req, o.resourceArgs);
  let fresh = resources.unchecked;
  for (const value of resources.values) {
    if (await store.setIfAbsent(keys.resourceSeen(k.pk, req.upstream, req.tool, value), 1, w)) fresh++;
  }
  const [pair, user] = await Promise.all([
    store.addToWindows(k.pairGroup, members.vol, [0, 0, fresh], w, now),
    store.addToWindows(k.userGroup, members.results, [0, 0], w, now),
  ]);
  const [bytes, items, distinctResources] = pair as [number, number, number];
  const [userBytes, userItems] = user as [number, number];
  return { windowMs: w, bytes, items, distinctResources, userBytes, userItems };
}

async function readNovelty(store: StateStore, req: SignalRequest, o: SignalOptions): Promise<Signals['novelty']> {
  const pk = keys.pair(req.principal);
  const uk = keys.user(req.principal);
  const tool = (await store.get(keys.toolSeen(pk, req.upstream, req.tool))) === undefined;
  const args: string[] = [];
  for (const n of o.noveltyArguments) {
    const found = noveltyValues(req.arguments, n.path);
    let novel = found.overflow;
    for (const v of found.keys) if (!novel && (await store.get(keys.valueSeen(uk, req.upstream, n.name, v))) === undefined) novel = true;
    if (novel) args.push(n.name);
  }
  return { tool, arguments: args };
}

async function readContext(store: StateStore, req: SignalRequest): Promise<Signals['context']> {
  const key = keys.session(req.sessionId);
  const current = contextOf(req);
  const first = await store.get<SessionRecord>(key);
  if (!first) {
    await store.set(key, current, SESSION_TTL_MS);
    return { addressChanged: false, clientChanged: false };
  }
  return { addressChanged: first.address !== current.address, clientChanged: first.client !== current.client };
}

/**
 * Gathers the anomaly signals for one call and counts the call (rate windows, burst buckets,
 * distinct resources). Attempts count whether or not they are later allowed, so hammering a
 * blocked tool still raises the rate. Store faults propagate: the guard's catch-all blocks.
 */
export function collectSignals(
  store: StateStore,
  req: SignalRequest,
  now: number,
  options: SignalOptions = DEFAULT_SIGNAL_OPTIONS,
): MaybePromise<Signals> {
  // The in-memory store answers synchronously: one pass, no await per store operation, and
  // the signals themselves rather than a promise of them.
  if (isSyncSignalStore(store)) return collectSignalsSync(store, req, now, options);
  return collectSignalsAsync(store, req, now, options);
}

async function collectSignalsAsync(store: StateStore, req: SignalRequest, now: number, options: SignalOptions): Promise<Signals> {
  const k = principalKeys(req.principal);
  const [rate, burst, userBurst, volume, novelty, context] = await Promise.all([
    countRates(store, req, now, options),
    countBurst(store, k.burst, now, options.burstBucketMs, options.burstAlpha),
    countBurst(store, k.userBurst, now, options.burstBucketMs, options.burstAlpha),
    readVolume(store, req, now, options),
    readNovelty(store, req, options),
    readContext(store, req),
  ]);
  return {
    rate,
    burst: { ...burstSignal(burst), user: burstSignal(userBurst) },
    volume,
    novelty,
    context,
    storeHealthy: store.healthy(),
  };
}

/**
 * Feeds back what a forwarded call returned: result bytes and items count toward the volume
 * windows, and (only for successful calls) the tool and sensitive argument values become
 * "seen", so a blocked first attempt stays novel on retry. Never throws into the proxy.
 */
export function observeOutcome(
  store: StateStore,
  req: SignalRequest,
  outcome: Pick<UpstreamOutcome, 'status' | 'resultBytes' | 'resultItems'>,
  now: number,
  options: SignalOptions = DEFAULT_SIGNAL_OPTIONS,
): MaybePromise<void> {
  // The in-memory store answers synchronously: the same operations without an await each.
  if (isSyncSignalStore(store)) return observeOutcomeSync(store, req, outcome, now, options);
  return observeOutcomeAsync(store, req, outcome, now, options);
}

async function observeOutcomeAsync(
  store: StateStore,
  req: SignalRequest,
  outcome: Pick<UpstreamOutcome, 'status' | 'resultBytes' | 'resultItems'>,
  now: number,
  options: SignalOptions,
): Promise<void> {
  const k = principalKeys(req.principal);
  const w = options.volumeWindowMs;
  const bytes = Number.isFinite(outcome.resultBytes) ? Math.max(0, outcome.resultBytes) : 0;
  const items = Number.isFinite(outcome.resultItems) ? Math.max(0, outcome.resultItems) : 0;
  if (bytes > 0 || items > 0) {
    // A zero amount only reads, as a skipped add did: no counter is created for nothing.
    const amounts = [bytes, items];
    await store.addToWindows(k.pairGroup, members.results, amounts, w, now);
    await store.addToWindows(k.userGroup, members.results, amounts, w, now);
  }
  if (outcome.status !== 'ok') return;
  await store.set(keys.toolSeen(k.pk, req.upstream, req.tool), 1, options.rememberMs);
  for (const n of options.noveltyArguments) {
    for (const v of noveltyValues(req.arguments, n.path).keys) await store.set(keys.valueSeen(k.uk, req.upstream, n.name, v), 1, options.rememberMs);
  }
}
