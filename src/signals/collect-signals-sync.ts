import { compilePath, valueAt } from '../policy/safe-access.js';
import { MemoryStateStore } from '../state/memory-store.js';
import type { StateStore } from '../state/state-store.js';
import { stepBurst, type BurstState } from './burst.js';
import type { SignalOptions, Signals } from './signals.js';
import { keys } from './state-keys.js';
import { burstSignal, contextOf, resourceValues, SESSION_TTL_MS, valueKey, type SessionRecord, type SignalRequest } from './signal-parts.js';

/**
 * A store whose operations complete synchronously (the in-memory MemoryStateStore). Same
 * semantics as the StateStore methods of the same names; sums are `addToWindowSync(key, 0, ...)`.
 */
export interface SyncSignalStore {
  getSync<T>(key: string): T | undefined;
  setSync<T>(key: string, value: T, ttlMs?: number): void;
  setIfAbsentSync<T>(key: string, value: T, ttlMs?: number): boolean;
  addToWindowSync(key: string, amount: number, windowMs: number, nowMs: number): number;
  healthy(): boolean;
}

const ASYNC_METHODS = ['get', 'set', 'setIfAbsent', 'addToWindow', 'sumWindow', 'healthy'] as const;

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

/**
 * collectSignals for a synchronous store: the same store operations and the same result, without
 * one await per operation (about twenty per call). Also atomic per call: no other call's
 * operations interleave.
 */
export function collectSignalsSync(store: SyncSignalStore, req: SignalRequest, now: number, o: SignalOptions): Signals {
  const pk = keys.pair(req.principal);
  const uk = keys.user(req.principal);
  const rw = o.rateWindowMs;
  const rate = {
    windowMs: rw,
    tool: store.addToWindowSync(keys.rateTool(pk, req.upstream, req.tool), 1, rw, now),
    toolClass: store.addToWindowSync(keys.rateClass(pk, o.toolClass), 1, rw, now),
    overall: store.addToWindowSync(keys.rateAll(pk), 1, rw, now),
    user: store.addToWindowSync(keys.rateUser(uk), 1, rw, now),
  };
  const own = burst(store, keys.burst(pk), now, o);
  const user = burst(store, keys.userBurst(uk), now, o);
  const vw = o.volumeWindowMs;
  let fresh = 0;
  for (const value of resourceValues(req, o.resourceArgs)) {
    if (store.setIfAbsentSync(keys.resourceSeen(pk, req.upstream, req.tool, value), 1, vw)) fresh++;
  }
  const volume = {
    windowMs: vw,
    bytes: store.addToWindowSync(keys.bytes(pk), 0, vw, now),
    items: store.addToWindowSync(keys.items(pk), 0, vw, now),
    distinctResources: store.addToWindowSync(keys.resources(pk), fresh, vw, now),
    userBytes: store.addToWindowSync(keys.userBytes(uk), 0, vw, now),
    userItems: store.addToWindowSync(keys.userItems(uk), 0, vw, now),
  };
  const args: string[] = [];
  for (const n of o.noveltyArguments) {
    const v = valueKey(valueAt(req.arguments, compilePath(n.path)));
    if (v !== undefined && store.getSync(keys.valueSeen(uk, n.name, v)) === undefined) args.push(n.name);
  }
  const novelty = { tool: store.getSync(keys.toolSeen(pk, req.upstream, req.tool)) === undefined, arguments: args };
  const sessionKey = keys.session(req.sessionId);
  const current = contextOf(req);
  const first = store.getSync<SessionRecord>(sessionKey);
  if (!first) store.setSync(sessionKey, current, SESSION_TTL_MS);
  const context = first
    ? { addressChanged: first.address !== current.address, clientChanged: first.client !== current.client }
    : { addressChanged: false, clientChanged: false };
  return { rate, burst: { ...burstSignal(own), user: burstSignal(user) }, volume, novelty, context, storeHealthy: store.healthy() };
}
