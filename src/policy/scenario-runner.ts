import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configErrorFromZod } from '../config/zod-error.js';
import type { Decision } from '../core/decision.js';
import { ConfigError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import { isVirtualToolName, virtualToolDefinition } from '../core/virtual-tools.js';
import { MemoryStateStore } from '../state/memory-store.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { decideToolCall, recordOutcome } from './decide.js';
import { durationMs } from './duration.js';
import { loadPolicySync, parsePolicyYaml } from './load-policy.js';
import { checkScenarioExpectations } from './scenario-expectations.js';
import { ScenarioSchema, type Expect, type PrincipalSpec, type Scenario, type Step } from './scenario-schema.js';

export interface StepResult {
  /** `steps[i]` or `steps[i]#n` for the n-th repetition. */
  readonly label: string;
  readonly name: string;
  readonly offsetMs: number;
  readonly passed: boolean;
  readonly checked: boolean;
  readonly decision: Decision;
  /** One line per mismatch: `action: expected block, got allow`. */
  readonly mismatches: readonly string[];
}

export interface ScenarioResult {
  readonly file: string;
  readonly name: string;
  readonly policyFiles: readonly string[];
  readonly passed: boolean;
  readonly steps: readonly StepResult[];
}

/** Reads and validates a scenario file. Throws ConfigError naming file and key path. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read scenario: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
  }
  const input = parsePolicyYaml(text, file);
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) throw configErrorFromZod(result.error, file, { schema: ScenarioSchema, input });
  for (const [key, spec] of Object.entries(result.data.principals)) {
    // An agent's issuer without an agent would be dropped, and the steps judged as direct user calls.
    if (spec.agentIssuer !== undefined && spec.agent === undefined) {
      throw new ConfigError("'agentIssuer' needs 'agent' (the agent it is the issuer of)", { file, keyPath: `principals.${key}.agentIssuer` });
    }
  }
  result.data.steps.forEach((s, i) => {
    if (!Object.hasOwn(result.data.principals, s.as)) {
      throw new ConfigError(`unknown principal '${s.as}'`, { file, keyPath: `steps[${i}].as` });
    }
  });
  return result.data;
}

/** Compares a decision with an expectation; returns the mismatches (empty = pass). */
export function compareExpect(expect: Expect, d: Decision): string[] {
  const e = typeof expect === 'string' ? { action: expect } : expect;
  const out: string[] = [];
  const codes = new Set(d.reasons.map((r) => r.code));
  if (e.action !== undefined && e.action !== d.action) out.push(`action: expected ${e.action}, got ${d.action}`);
  if (e.enforced !== undefined && e.enforced !== d.enforced) out.push(`enforced: expected ${e.enforced}, got ${d.enforced}`);
  if (e.sensitivity !== undefined && e.sensitivity !== d.sensitivity) out.push(`sensitivity: expected ${e.sensitivity}, got ${d.sensitivity}`);
  for (const c of e.reasons ?? []) if (!codes.has(c)) out.push(`reasons: expected ${c}, got [${[...codes].join(', ')}]`);
  for (const c of e.absent ?? []) if (codes.has(c)) out.push(`reasons: expected no ${c}`);
  for (const id of e.rules ?? []) if (!d.rules.includes(id)) out.push(`rules: expected ${id}, got [${d.rules.join(', ')}]`);
  for (const id of e.absentRules ?? []) if (d.rules.includes(id)) out.push(`rules: expected no ${id}`);
  if (e.scoreAtLeast !== undefined && d.score < e.scoreAtLeast) out.push(`score: expected >= ${e.scoreAtLeast}, got ${d.score}`);
  if (e.scoreBelow !== undefined && d.score >= e.scoreBelow) out.push(`score: expected < ${e.scoreBelow}, got ${d.score}`);
  return out;
}

function principalOf(spec: PrincipalSpec, startMs: number): Principal {
  const secondsBefore = (d: PrincipalSpec['authAgo']) => (d === undefined ? undefined : Math.floor((startMs - durationMs(d)) / 1000));
  return {
    issuer: spec.issuer,
    user: spec.user,
    actor: spec.agent,
    actorIssuer: spec.agent === undefined ? undefined : spec.agentIssuer,
    priorActors: [],
    clientId: undefined,
    scopes: spec.scopes,
    sessionId: undefined,
    authTime: secondsBefore(spec.authAgo),
    acr: undefined,
    amr: [],
    issuedAt: secondsBefore(spec.issuedAgo),
    expiresAt: undefined,
    tokenId: undefined,
    claims: spec.claims,
    anonymous: false,
  };
}

function requestOf(s: Scenario, step: Step, key: string, now: number, startMs: number, n: number): ToolCallRequest {
  const spec = s.principals[key] as PrincipalSpec;
  const [name, version] = (step.client ?? spec.client).split('/');
  const upstream = step.upstream ?? s.upstream;
  // A step naming a virtual tool (`resources/read`, arguments `{ uri }`) is judged as warden judges
  // that request: with warden's own definition, never annotations the scenario gives it.
  const virtual = isVirtualToolName(step.tool) ? step.tool : undefined;
  return {
    callId: `scenario-${n}`,
    action: virtual ?? 'tools/call',
    sessionId: step.session ?? spec.session ?? `session-${key}`,
    principal: principalOf(spec, startMs),
    upstream,
    tool: step.tool,
    exposedName: step.tool,
    arguments: step.arguments,
    toolDefinition: virtual ? virtualToolDefinition(virtual) : step.annotations ? { name: step.tool, annotations: step.annotations } : undefined,
    transport: 'http',
    remoteAddress: step.address ?? spec.address,
    userAgent: undefined,
    clientInfo: { name: name ?? '', version: version ?? '' },
    progressToken: undefined,
    receivedAt: now,
    signal: new AbortController().signal,
    sendProgress: undefined,
  };
}

/**
 * Runs a scenario against its policy (or `policy` when given) with a fresh in-memory store and a
 * scripted clock: collectSignals + evaluate per call, then the scripted result is fed back when
 * the enforced action lets the call through (allow, throttle, or approve with `granted: true`).
 */
export async function runScenario(file: string, policy?: CompiledPolicy): Promise<ScenarioResult> {
  const s = loadScenario(file);
  const policyFiles = (Array.isArray(s.policy) ? s.policy : [s.policy]).map((p) => resolve(dirname(file), p));
  const compiled = policy ?? loadPolicySync(policyFiles);
  checkScenarioExpectations(s, file, compiled);
  const store = new MemoryStateStore({ maxEntries: 50_000 });
  const startMs = Date.parse(s.start);
  const results: StepResult[] = [];
  let offset = 0;
  let n = 0;
  for (const [i, step] of s.steps.entries()) {
    offset = step.at !== undefined ? durationMs(step.at) : offset + (i === 0 ? 0 : durationMs(step.after ?? '1s'));
    for (let r = 0; r < step.repeat; r++) {
      if (r > 0) offset += durationMs(step.every);
      const now = startMs + offset;
      // Past the last date a Date can hold, the clock-based signals cannot be read (office hours
      // throw, and the decision would be an `internal` block the scenario never asked about).
      if (Number.isNaN(new Date(now).getTime())) {
        const key = r > 0 ? 'every' : step.at !== undefined ? 'at' : 'after';
        throw new ConfigError(`the step falls at ${offset} ms after start, past the last date a clock can show`, { file, keyPath: `steps[${i}].${key}` });
      }
      const req = requestOf(s, step, step.as, now, startMs, n++);
      const { decision } = await decideToolCall(store, compiled, req, now);
      const forwarded = decision.enforced === 'allow' || decision.enforced === 'throttle' || (decision.enforced === 'approve' && step.granted);
      if (forwarded) {
        const { bytes, items, status } = step.result ?? { bytes: 0, items: 0, status: 'ok' as const };
        await recordOutcome(store, compiled, req, { status, durationMs: 1, resultBytes: bytes, resultItems: items, result: null }, now);
      }
      const last = r === step.repeat - 1;
      const expect = last && step.expectLast !== undefined ? step.expectLast : step.expect;
      const mismatches = expect !== undefined ? compareExpect(expect, decision) : [];
      const label = step.repeat > 1 ? `steps[${i}]#${r + 1}` : `steps[${i}]`;
      const stepName = step.name ?? `${step.as} ${step.tool}`;
      results.push({ label, name: stepName, offsetMs: offset, passed: mismatches.length === 0, checked: expect !== undefined, decision, mismatches });
    }
  }
  return { file, name: s.name, policyFiles, passed: results.every((r) => r.passed), steps: results };
}
