import { sha256Hex } from '../../src/core/canonical-json.js';
import { principalKey } from '../../src/core/principal.js';
import type { UpstreamOutcome } from '../../src/core/tool-call.js';
import { compilePath, valueAt } from '../../src/policy/safe-access.js';
import { stepBurst, type BurstState } from '../../src/signals/burst.js';
import { burstSignal, contextOf, resourceValues, SESSION_TTL_MS, valueKey, type SessionRecord, type SignalRequest } from '../../src/signals/signal-parts.js';
import type { SignalOptions, Signals } from '../../src/signals/signals.js';
import type { MemoryStateStore } from '../../src/state/memory-store.js';

/**
 * The signal collector as it was before counters were grouped per principal: one store key per
 * counter, one store operation per counter. Kept as an oracle: the grouped collector must compute
 * exactly the same signals for the same calls.
 */
const frag = (v: string): string => (v.length <= 64 ? `r:${v}` : `h:${sha256Hex(v).slice(0, 32)}`);
const k = {
  user: (r: SignalRequest) => `${r.principal.issuer}|${r.principal.user}`,
  rateTool: (pk: string, u: string, t: string) => `sig:rate:tool:${pk}:${u}/${t}`,
  resourceSeen: (pk: string, u: string, t: string, v: string) => `sig:vol:seen:${pk}:${u}/${t}:${frag(v)}`,
  toolSeen: (pk: string, u: string, t: string) => `sig:nov:tool:${pk}:${u}/${t}`,
  valueSeen: (uk: string, n: string, v: string) => `sig:nov:arg:${uk}:${n}:${frag(v)}`,
};

async function burst(store: MemoryStateStore, key: string, now: number, o: SignalOptions): Promise<BurstState> {
  const next = stepBurst(await store.get<BurstState>(key), now, o.burstBucketMs, o.burstAlpha);
  await store.set(key, next, o.burstBucketMs * 100);
  return next;
}

export async function referenceCollectSignals(store: MemoryStateStore, req: SignalRequest, now: number, o: SignalOptions): Promise<Signals> {
  const pk = principalKey(req.principal);
  const uk = k.user(req);
  const rw = o.rateWindowMs;
  const rate = {
    windowMs: rw,
    tool: await store.addToWindow(k.rateTool(pk, req.upstream, req.tool), 1, rw, now),
    toolClass: await store.addToWindow(`sig:rate:class:${pk}:${o.toolClass}`, 1, rw, now),
    overall: await store.addToWindow(`sig:rate:all:${pk}`, 1, rw, now),
    user: await store.addToWindow(`sig:rate:user:${uk}`, 1, rw, now),
  };
  const own = await burst(store, `sig:burst:${pk}`, now, o);
  const user = await burst(store, `sig:burst:user:${uk}`, now, o);
  const vw = o.volumeWindowMs;
  let fresh = 0;
  for (const value of resourceValues(req, o.resourceArgs)) {
    if (await store.setIfAbsent(k.resourceSeen(pk, req.upstream, req.tool, value), 1, vw)) fresh++;
  }
  const volume = {
    windowMs: vw,
    bytes: await store.sumWindow(`sig:vol:bytes:${pk}`, vw, now),
    items: await store.sumWindow(`sig:vol:items:${pk}`, vw, now),
    distinctResources: await store.addToWindow(`sig:vol:res:${pk}`, fresh, vw, now),
    userBytes: await store.sumWindow(`sig:vol:ubytes:${uk}`, vw, now),
    userItems: await store.sumWindow(`sig:vol:uitems:${uk}`, vw, now),
  };
  const args: string[] = [];
  for (const n of o.noveltyArguments) {
    const v = valueKey(valueAt(req.arguments, compilePath(n.path)));
    if (v !== undefined && (await store.get(k.valueSeen(uk, n.name, v))) === undefined) args.push(n.name);
  }
  const novelty = { tool: (await store.get(k.toolSeen(pk, req.upstream, req.tool))) === undefined, arguments: args };
  const sessionKey = `sig:sess:${req.sessionId}`;
  const current = contextOf(req);
  const first = await store.get<SessionRecord>(sessionKey);
  if (!first) await store.set(sessionKey, current, SESSION_TTL_MS);
  const context = first
    ? { addressChanged: first.address !== current.address, clientChanged: first.client !== current.client }
    : { addressChanged: false, clientChanged: false };
  return { rate, burst: { ...burstSignal(own), user: burstSignal(user) }, volume, novelty, context, storeHealthy: store.healthy() };
}

export async function referenceObserveOutcome(
  store: MemoryStateStore,
  req: SignalRequest,
  outcome: Pick<UpstreamOutcome, 'status' | 'resultBytes' | 'resultItems'>,
  now: number,
  o: SignalOptions,
): Promise<void> {
  const pk = principalKey(req.principal);
  const uk = k.user(req);
  const w = o.volumeWindowMs;
  const bytes = Number.isFinite(outcome.resultBytes) ? Math.max(0, outcome.resultBytes) : 0;
  const items = Number.isFinite(outcome.resultItems) ? Math.max(0, outcome.resultItems) : 0;
  if (bytes > 0) await store.addToWindow(`sig:vol:bytes:${pk}`, bytes, w, now);
  if (items > 0) await store.addToWindow(`sig:vol:items:${pk}`, items, w, now);
  if (bytes > 0) await store.addToWindow(`sig:vol:ubytes:${uk}`, bytes, w, now);
  if (items > 0) await store.addToWindow(`sig:vol:uitems:${uk}`, items, w, now);
  if (outcome.status !== 'ok') return;
  await store.set(k.toolSeen(pk, req.upstream, req.tool), 1, o.rememberMs);
  for (const n of o.noveltyArguments) {
    const v = valueKey(valueAt(req.arguments, compilePath(n.path)));
    if (v !== undefined) await store.set(k.valueSeen(uk, n.name, v), 1, o.rememberMs);
  }
}
