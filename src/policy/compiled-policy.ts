import type { Action, DecisionMode, Sensitivity } from '../core/decision.js';
import type { CompiledCondition } from './compile-condition.js';
import type { CallMatch, NameMatcher, PrincipalMatcher } from './compile-match.js';
import type { Policy } from './policy-schema.js';

export const SENSITIVITY_RANK: Readonly<Record<Sensitivity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };
export const SENSITIVITIES: readonly Sensitivity[] = ['low', 'medium', 'high', 'critical'];

export interface CompiledRule {
  readonly id: string;
  /** Position in the merged rule list (evaluation order for reporting). */
  readonly index: number;
  readonly action: Action;
  /** Effective mode: the rule's own, else the policy's. */
  readonly mode: DecisionMode;
  readonly hide: boolean;
  readonly upstreams: NameMatcher | undefined;
  readonly tools: NameMatcher | undefined;
  readonly principal: PrincipalMatcher | undefined;
  readonly call: CallMatch;
}

export interface CompiledClassify {
  readonly index: number;
  readonly level: Sensitivity;
  readonly toolClass: string | undefined;
  readonly upstreams: NameMatcher | undefined;
  readonly tools: NameMatcher;
  /** Present on entries that only raise sensitivity when argument conditions hold. */
  readonly when: CompiledCondition | undefined;
}

/** What name-only matching yields for one (upstream, tool) pair; memoised per policy. */
export interface ToolEntry {
  /** Highest name-only classification, or undefined when the tool is unclassified. */
  readonly base: CompiledClassify | undefined;
  /** Argument-conditional entries that may raise sensitivity. */
  readonly raises: readonly CompiledClassify[];
  /** Rules whose upstream/tool globs match, in policy order. */
  readonly rules: readonly CompiledRule[];
}

/** Anomaly settings with durations in milliseconds. */
export interface CompiledAnomalies {
  readonly rate: Omit<Policy['anomalies']['rate'], 'window'> & { readonly windowMs: number };
  readonly burst: Omit<Policy['anomalies']['burst'], 'bucket'> & { readonly bucketMs: number };
  readonly volume: Omit<Policy['anomalies']['volume'], 'window'> & { readonly windowMs: number };
  readonly novelty: {
    readonly toolWeight: number;
    readonly rememberMs: number;
    readonly arguments: readonly { name: string; tools: NameMatcher; path: string; weight: number }[];
  };
  readonly context: {
    readonly addressChangeWeight: number;
    readonly clientChangeWeight: number;
    readonly maxTokenAgeMs: number | null;
    readonly tokenAgeWeight: number;
    readonly maxAuthAgeMs: number | null;
    readonly authAgeWeight: number;
    readonly hours: OfficeHours | undefined;
  };
}

export interface OfficeHours {
  readonly timezone: string;
  readonly start: number;
  readonly end: number;
  readonly days: ReadonlySet<number>;
  readonly weight: number;
  /** Local (weekday, hour) at an instant; precompiled formatter, memoised per minute. */
  readonly localTime: (nowMs: number) => { day: number; hour: number };
}

/** A validated, fully precompiled policy. Immutable; evaluate() does no compilation. */
export interface CompiledPolicy {
  /** `sha256:<hex>` over the canonical validated policy (all files): identifies this version. */
  readonly hash: string;
  readonly version: string;
  readonly files: readonly string[];
  readonly mode: DecisionMode;
  readonly source: Policy;
  readonly defaults: Policy['defaults'];
  readonly thresholds: Policy['thresholds'];
  readonly points: Readonly<Record<Sensitivity, number>>;
  readonly annotations: Policy['annotations'];
  readonly anomalies: CompiledAnomalies;
  readonly rules: readonly CompiledRule[];
  readonly classify: readonly CompiledClassify[];
  /**
   * Argument paths (dot paths, `*` allowed) and value patterns that audit and approval prompts
   * redact. Patterns are compiled with the `g` flag for `String.prototype.replace`; reset
   * `lastIndex` before using `test()`.
   */
  readonly redact: { readonly paths: readonly string[]; readonly patterns: readonly RegExp[] };
  /** Name-only matching for one (upstream, tool), memoised (bounded). */
  lookup(upstream: string, tool: string): ToolEntry;
}
