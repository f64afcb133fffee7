import { MemoryStateStore } from '../state/memory-store.js';
import type { UpstreamOutcome } from '../core/tool-call.js';
import type { StateStore } from '../state/state-store.js';
import { stepBurst, type BurstState } from './burst.js';
import type { SignalOptions, Signals } from './signals.js';
import { keys, members, principalKeys, sessionKey, toolKeys } from './state-keys.js';
import { burstSignal, contextOf, noveltyValues, scanResources, SESSION_TTL_MS, type SessionRecord, type SignalRequest } from './signal-parts.js';

/**
 * A store whose operations complete synchronously (the in-memory MemoryStateStore). Same
 * semantics as the StateStore methods of the same names; sums are `addToWindowSync(key, 0, ...)`.
 */
export interface SyncSignalStore {
  getSync<T>(key: string): T | undefined;
  setSync<T>(key: string, value: T, ttlMs?: number): void;
  setIfAbsentSync<T>(key: string, value: T, ttlMs?: number): boolean;
  addToWindowSync(key: string, amount: number, windowMs: number, nowMs: number): number;
  addToWindowsSync(group: string, names: readonly string[], amounts: readonly number[], windowMs: number, nowMs: number): number[];
  healthy(): boolean;
}

const ASYNC_METHODS = ['get', 'set', 'setIfAbsent', 'addToWindow', 'addToWindows', 'sumWindow', 'healthy'] as const;

/**
 * True only for an unmodified MemoryStateStore: its async methods are exactly its sync forms. A
 * store whose async methods were replaced or overridden (a wrapper, a fault-injecting test, a
 * subclass) keeps the general path, so what it does is what collectSignals sees.
 */
export function isSyncSignalStore(store: StateStore): store is StateStore & SyncSignalStore {
  if (!(store instanceof MemoryStateStore)) return false;
  for (const m of ASYNC_METHODS) if (store[m] !== MemoryStateStore.prototype[m]) return false;
  return true;
}

function burst(store: SyncSignalStore, key: string, now: number, o: SignalOptions): BurstState {
  const next = stepBurst(store.getSync<BurstState>(key), now, o.burstBucketMs, o.burstAlpha);
  store.setSync(key, next, o.burstBucketMs * 100);
  return next;
}

const ONES = [1, 1, 1] as const;
const ZEROS = [0, 0] as const;

/**
 * collectSignals for a synchronous store: the same store operations and the same result, without
 * one await per operation. Also atomic per call: no other call's operations interleave.
 */
export function collectSignalsSync(store: SyncSignalStore, req: SignalRequest, now: number, o: SignalOptions): Signals {
  const k = principalKeys(req.principal);
  const t = toolKeys(k, req.upstream, req.tool, o.toolClass);
  const rw = o.rateWindowMs;
  const pairRates = store.addToWindowsSync(k.pairGroup, t.rateMembers, ONES, rw, now);
  const userRates = store.addToWindowsSync(k.userGroup, members.userRate, ONES, rw, now);
  const rate = { windowMs: rw, tool: pairRates[0] as number, toolClass: pairRates[1] as number, overall: pairRates[2] as number, user: userRates[0] as number };
  const own = burst(store, k.burst, now, o);
  const user = burst(store, k.userBurst, now, o);
  const vw = o.volumeWindowMs;
  const resources = scanResources(req, o.resourceArgs);
  let fresh = resources.unchecked;
  for (const value of resources.values) {
    if (store.setIfAbsentSync(keys.resourceSeen(k.pk, req.upstream, req.tool, value), 1, vw)) fresh++;
  }
  const pairVol = store.addToWindowsSync(k.pairGroup, members.vol, [0, 0, fresh], vw, now);
  const userVol = store.addToWindowsSync(k.userGroup, members.results, ZEROS, vw, now);
  const volume = {
    windowMs: vw, bytes: pairVol[0] as number, items: pairVol[1] as number, distinctResources: pairVol[2] as number,
    userBytes: userVol[0] as number, userItems: userVol[1] as number,
  };
  const args: string[] = [];
  for (const n of o.noveltyArguments) {
    const found = noveltyValues(req.arguments, n.path);
    if (found.overflow || found.keys.some((v) => store.getSync(keys.valueSeen(k.uk, req.upstream, n.name, v)) === undefined)) args.push(n.name);
  }
  const novelty = { tool: store.getSync(t.toolSeen) === undefined, arguments: args };
  const key = sessionKey(req.sessionId);
  const current = contextOf(req);
  const first = store.getSync<SessionRecord>(key);
  if (!first) store.setSync(key, current, SESSION_TTL_MS);
  const context = first
    ? { addressChanged: first.address !== current.address, clientChanged: first.client !== current.client }
    : { addressChanged: false, clientChanged: false };
  const ownSignal = burstSignal(own);
  const burstSignals = { current: ownSignal.current, baseline: ownSignal.baseline, samples: ownSignal.samples, user: burstSignal(user) };
  return { rate, burst: burstSignals, volume, novelty, context, storeHealthy: store.healthy() };
}

/** observeOutcome for a synchronous store: the same store operations, in the same order. */
export function observeOutcomeSync(
  store: SyncSignalStore,
  req: SignalRequest,
  outcome: Pick<UpstreamOutcome, 'status' | 'resultBytes' | 'resultItems'>,
  now: number,
  o: SignalOptions,
): void {
  const k = principalKeys(req.principal);
  const bytes = Number.isFinite(outcome.resultBytes) ? Math.max(0, outcome.resultBytes) : 0;
  const items = Number.isFinite(outcome.resultItems) ? Math.max(0, outcome.resultItems) : 0;
  if (bytes > 0 || items > 0) {
    // A zero amount only reads, as a skipped add did: no counter is created for nothing.
    const amounts = [bytes, items];
    store.addToWindowsSync(k.pairGroup, members.results, amounts, o.volumeWindowMs, now);
    store.addToWindowsSync(k.userGroup, members.results, amounts, o.volumeWindowMs, now);
  }
  if (outcome.status !== 'ok') return;
  store.setSync(toolKeys(k, req.upstream, req.tool, o.toolClass).toolSeen, 1, o.rememberMs);
  for (const n of o.noveltyArguments) {
    for (const v of noveltyValues(req.arguments, n.path).keys) store.setSync(keys.valueSeen(k.uk, req.upstream, n.name, v), 1, o.rememberMs);
  }
}
