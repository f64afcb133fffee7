import type { Reason } from '../core/decision.js';
import type { Principal } from '../core/principal.js';
import type { CompiledAnomalies } from '../policy/compiled-policy.js';
import type { BurstSignal, Signals } from '../signals/signals.js';

function over(count: number, limit: number | null | undefined): boolean {
  return limit !== null && limit !== undefined && count > limit;
}

function rateReasons(a: CompiledAnomalies, s: Signals, toolClass: string, out: Reason[]): void {
  const r = a.rate;
  const per = `per ${s.rate.windowMs / 1000}s`;
  if (over(s.rate.tool, r.perTool)) out.push({ code: 'rate.tool', weight: r.weight, detail: `${s.rate.tool} calls to this tool ${per} > ${r.perTool}` });
  const classLimit = Object.hasOwn(r.perClass, toolClass) ? r.perClass[toolClass] : undefined;
  if (over(s.rate.toolClass, classLimit)) out.push({ code: 'rate.class', weight: r.weight, detail: `${s.rate.toolClass} ${toolClass} calls ${per} > ${classLimit}` });
  if (over(s.rate.overall, r.overall)) out.push({ code: 'rate.overall', weight: r.weight, detail: `${s.rate.overall} calls ${per} > ${r.overall}` });
  if (over(s.rate.user, r.perUser)) out.push({ code: 'rate.user', weight: r.weight, detail: `${s.rate.user} calls by the user ${per} > ${r.perUser}` });
}

function burstReason(a: CompiledAnomalies, s: BurstSignal, code: string, who: string, out: Reason[]): void {
  const b = a.burst;
  if (s.baseline === undefined || s.samples < b.minSamples) return;
  const baseline = Math.max(s.baseline, b.minBaseline);
  if (s.current >= b.factor * baseline) {
    out.push({ code, weight: b.weight, detail: `${s.current} calls by the ${who} this bucket vs baseline ${baseline.toFixed(1)} (x${b.factor})` });
  }
}

function volumeReasons(a: CompiledAnomalies, s: Signals, out: Reason[]): void {
  const v = a.volume;
  const per = `per ${s.volume.windowMs / 1000}s`;
  if (over(s.volume.bytes, v.maxBytes)) out.push({ code: 'volume.bytes', weight: v.weight, detail: `${s.volume.bytes} bytes returned ${per} > ${v.maxBytes}` });
  if (over(s.volume.items, v.maxItems)) out.push({ code: 'volume.items', weight: v.weight, detail: `${s.volume.items} items returned ${per} > ${v.maxItems}` });
  if (over(s.volume.distinctResources, v.maxDistinctResources)) {
    out.push({ code: 'volume.resources', weight: v.weight, detail: `${s.volume.distinctResources} distinct resources ${per} > ${v.maxDistinctResources}` });
  }
  if (over(s.volume.userBytes, v.perUserMaxBytes)) out.push({ code: 'volume.user_bytes', weight: v.weight, detail: `${s.volume.userBytes} bytes to the user ${per} > ${v.perUserMaxBytes}` });
  if (over(s.volume.userItems, v.perUserMaxItems)) out.push({ code: 'volume.user_items', weight: v.weight, detail: `${s.volume.userItems} items to the user ${per} > ${v.perUserMaxItems}` });
}

function noveltyReasons(a: CompiledAnomalies, s: Signals, out: Reason[]): void {
  if (s.novelty.tool) out.push({ code: 'novelty.tool', weight: a.novelty.toolWeight, detail: 'first use of this tool by this user+agent' });
  for (const name of s.novelty.arguments) {
    const cfg = a.novelty.arguments.find((n) => n.name === name);
    out.push({ code: 'novelty.argument', weight: cfg?.weight ?? 0, detail: `new ${name} for this user` });
  }
}

function contextReasons(a: CompiledAnomalies, s: Signals, p: Principal, now: number, out: Reason[]): void {
  const c = a.context;
  if (s.context.addressChanged) out.push({ code: 'context.address_changed', weight: c.addressChangeWeight, detail: 'network address changed mid-session' });
  if (s.context.clientChanged) out.push({ code: 'context.client_changed', weight: c.clientChangeWeight, detail: 'client changed mid-session' });
  // An unknown token or auth age counts as too old: absence of evidence is not freshness.
  // An anonymous principal (dangerouslyAllowAnonymous) presented no token, so there is no token
  // age to judge; it still gets context.auth_age, as nobody authenticated at all.
  if (c.maxTokenAgeMs !== null && !p.anonymous && (p.issuedAt === undefined || now - p.issuedAt * 1000 > c.maxTokenAgeMs)) {
    out.push({ code: 'context.token_age', weight: c.tokenAgeWeight, detail: p.issuedAt === undefined ? 'token has no iat' : 'token older than maxTokenAge' });
  }
  if (c.maxAuthAgeMs !== null && (p.authTime === undefined || now - p.authTime * 1000 > c.maxAuthAgeMs)) {
    out.push({ code: 'context.auth_age', weight: c.authAgeWeight, detail: p.authTime === undefined ? 'no auth_time' : 'last authentication older than maxAuthAge' });
  }
  const h = c.hours;
  if (h) {
    const { day, hour } = h.localTime(now);
    if (!h.days.has(day) || hour < h.start || hour >= h.end) {
      out.push({ code: 'context.off_hours', weight: h.weight, detail: `outside ${h.start}:00-${h.end}:00 ${h.timezone}` });
    }
  }
}

/** Every anomaly this call shows, each a named reason carrying its configured weight. Pure. */
export function anomalyReasons(a: CompiledAnomalies, signals: Signals, principal: Principal, toolClass: string, now: number): Reason[] {
  const out: Reason[] = [];
  rateReasons(a, signals, toolClass, out);
  burstReason(a, signals.burst, 'burst.rate', 'user+agent', out);
  burstReason(a, signals.burst.user, 'burst.user', 'user', out);
  volumeReasons(a, signals, out);
  noveltyReasons(a, signals, out);
  contextReasons(a, signals, principal, now, out);
  if (!signals.storeHealthy) out.push({ code: 'state.unavailable', weight: 0, detail: 'state store unhealthy; counts may be incomplete' });
  return out;
}
