import { digestOf } from '../core/canonical-json.js';
import { compileConditions } from './compile-condition.js';
import { compileCallMatch, compileGlobs, compilePrincipalMatch } from './compile-match.js';
import {
  SENSITIVITY_RANK,
  type CompiledAnomalies,
  type CompiledClassify,
  type CompiledPolicy,
  type CompiledRule,
  type OfficeHours,
  type ToolEntry,
} from './compiled-policy.js';
import { durationMs } from './duration.js';
import type { Policy } from './policy-schema.js';

const LOOKUP_CACHE_MAX = 10_000;

function compileRules(policy: Policy): CompiledRule[] {
  return policy.rules.map((r, index) => ({
    id: r.id,
    index,
    action: r.action,
    mode: r.mode ?? policy.mode,
    hide: r.hide === true,
    upstreams: compileGlobs(r.match.upstreams),
    tools: compileGlobs(r.match.tools),
    principal: compilePrincipalMatch(r.match),
    call: compileCallMatch(r.match, r.action),
  }));
}

function compileClassify(policy: Policy): CompiledClassify[] {
  return policy.sensitivity.map((c, index) => ({
    index,
    level: c.level,
    toolClass: c.class,
    upstreams: compileGlobs(c.upstreams),
    tools: compileGlobs(c.tools) ?? (() => true),
    // A `when` only raises sensitivity: any value that meets it raises.
    when: compileConditions(c.when, 'any'),
  }));
}

function compileHours(h: NonNullable<Policy['anomalies']['context']['hours']>): OfficeHours {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: h.timezone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
  const days: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  let memoMinute = NaN;
  let memo = { day: 0, hour: 0 };
  return {
    timezone: h.timezone,
    start: h.start,
    end: h.end,
    days: new Set(h.days),
    weight: h.weight,
    localTime(nowMs) {
      const minute = Math.floor(nowMs / 60_000);
      if (minute !== memoMinute) {
        let day = 0;
        let hour = 0;
        for (const part of fmt.formatToParts(nowMs)) {
          if (part.type === 'weekday') day = days[part.value] ?? 0;
          else if (part.type === 'hour') hour = Number(part.value) % 24;
        }
        memo = { day, hour };
        memoMinute = minute;
      }
      return memo;
    },
  };
}

function compileAnomalies(a: Policy['anomalies']): CompiledAnomalies {
  const { window: rateWindow, ...rate } = a.rate;
  const { bucket, ...burst } = a.burst;
  const { window: volumeWindow, ...volume } = a.volume;
  const c = a.context;
  return {
    rate: { ...rate, windowMs: durationMs(rateWindow) },
    burst: { ...burst, bucketMs: Math.max(1, durationMs(bucket)) },
    volume: { ...volume, windowMs: durationMs(volumeWindow) },
    novelty: {
      toolWeight: a.novelty.toolWeight,
      rememberMs: durationMs(a.novelty.remember),
      arguments: a.novelty.arguments.map((n) => ({ ...n, tools: compileGlobs(n.tools) ?? (() => false) })),
    },
    context: {
      addressChangeWeight: c.addressChangeWeight,
      clientChangeWeight: c.clientChangeWeight,
      maxTokenAgeMs: c.maxTokenAge === null ? null : durationMs(c.maxTokenAge),
      tokenAgeWeight: c.tokenAgeWeight,
      maxAuthAgeMs: c.maxAuthAge === null ? null : durationMs(c.maxAuthAge),
      authAgeWeight: c.authAgeWeight,
      hours: c.hours ? compileHours(c.hours) : undefined,
    },
  };
}

function buildLookup(rules: readonly CompiledRule[], classify: readonly CompiledClassify[]) {
  // Nested maps (upstream -> tool -> entry) avoid building a key string per call.
  const cache = new Map<string, Map<string, ToolEntry>>();
  let size = 0;
  return (upstream: string, tool: string): ToolEntry => {
    let byTool = cache.get(upstream);
    const hit = byTool?.get(tool);
    if (hit) return hit;
    let base: CompiledClassify | undefined;
    const raises: CompiledClassify[] = [];
    for (const c of classify) {
      if (!c.tools(tool) || (c.upstreams && !c.upstreams(upstream))) continue;
      if (c.when) raises.push(c);
      // The strictest name-only entry wins; ties go to the first listed.
      else if (!base || SENSITIVITY_RANK[c.level] > SENSITIVITY_RANK[base.level]) base = c;
    }
    const matched = rules.filter((r) => (!r.tools || r.tools(tool)) && (!r.upstreams || r.upstreams(upstream)));
    const entry: ToolEntry = { base, raises, rules: matched };
    // Bounded: an agent inventing tool names cannot grow the memo without limit.
    if (size >= LOOKUP_CACHE_MAX) {
      cache.clear();
      size = 0;
      byTool = undefined;
    }
    if (!byTool) {
      byTool = new Map();
      cache.set(upstream, byTool);
    }
    byTool.set(tool, entry);
    size++;
    return entry;
  };
}

/**
 * Precompiles a validated policy: globs, regexes, containment roots, timezone formatter and a
 * memoised per-tool index, so evaluate() only runs prepared predicates.
 */
export function compilePolicy(policy: Policy, files: readonly string[] = []): CompiledPolicy {
  const rules = compileRules(policy);
  const classify = compileClassify(policy);
  const lookup = buildLookup(rules, classify);
  const { $schema: _schema, ...hashed } = policy;
  return {
    hash: digestOf(hashed),
    version: String(policy.version),
    files,
    mode: policy.mode,
    source: policy,
    defaults: policy.defaults,
    thresholds: policy.thresholds,
    points: policy.scoring.sensitivity,
    annotations: policy.annotations,
    anomalies: compileAnomalies(policy.anomalies),
    rules,
    classify,
    redact: {
      paths: policy.redact?.paths ?? [],
      patterns: (policy.redact?.patterns ?? []).map((p) => new RegExp(p, 'g')),
    },
    lookup,
  };
}
