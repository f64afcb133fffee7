import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Action } from '../../src/core/decision.js';
import { loadPolicyFileSync } from '../../src/policy/load-policy.js';
import { AFTER_RULE_REASON_CODES } from '../../src/policy/rule-reason-codes.js';
import { WARDEN_MAIN } from './demo-setup.js';

/** The parts of an audit record the demo prints. */
export interface AuditRecord {
  readonly seq: number;
  readonly type: string;
  readonly callId?: string;
  readonly tool?: string;
  readonly action?: string;
  readonly enforced?: string;
  readonly score?: number;
  readonly rules?: readonly string[];
  readonly reasons?: readonly { code: string; weight?: number; detail?: string }[];
  readonly hidden?: boolean;
  readonly [key: string]: unknown;
}

/**
 * Reads the audit log as the demo goes. Every decision record is on disk before the call is
 * answered (write-ahead), so after a call returns its `call.decision` record is already there.
 */
export class AuditReader {
  private seen = 0;

  constructor(private readonly file: string) {}

  all(): AuditRecord[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AuditRecord);
  }

  /** Records written since the last call of `next()`. */
  next(): AuditRecord[] {
    const records = this.all();
    const fresh = records.filter((r) => r.seq > this.seen);
    if (records.length > 0) this.seen = Math.max(this.seen, ...records.map((r) => r.seq));
    return fresh;
  }
}

/** Each rule's action by id, from the policy file(s) the demo's warden runs with. */
export type RuleActions = ReadonlyMap<string, Action>;

/** The rule actions of a policy file (the demo's: examples/demo/demo-policy.yaml). */
export function ruleActionsOf(policyFile: string): RuleActions {
  return new Map(loadPolicyFileSync(policyFile).policy.rules.map((r) => [r.id, r.action]));
}

/**
 * Floors the policy adds after rules are matched, only when they raise the action past what the
 * rules and the score gave: one present is what decided. (`policy.monitor_rule` only reports.)
 */
const DECIDING_FLOORS: ReadonlySet<string> = new Set(AFTER_RULE_REASON_CODES.filter((c) => c !== 'policy.monitor_rule'));

/**
 * `score 30 · sensitivity.high(25) novelty.tool(5) · approve by rule approve-large-payments`.
 * What decided is told apart from what merely matched: `rules` lists every rule that fired, and a
 * block by the critical floor (`policy.implicit_critical`) read as if the approve rule that also
 * fired had blocked the call.
 */
export function explain(d: AuditRecord | undefined, ruleActions: RuleActions): string {
  if (!d) return '(no decision record)';
  if (d.hidden) return 'hidden from this principal';
  const all = d.reasons ?? [];
  const risk = all.filter((r) => !DECIDING_FLOORS.has(r.code)).map((r) => (r.weight ? `${r.code}(${r.weight})` : r.code)).join(' ');
  const floors = all.filter((r) => DECIDING_FLOORS.has(r.code));
  const fired = d.rules ?? [];
  const deciding = floors.length > 0 ? [] : fired.filter((id) => ruleActions.get(id) === d.action);
  const others = fired.filter((id) => !deciding.includes(id));
  let by = '';
  if (floors.length > 0) by = ` · ${d.action ?? '?'} by ${floors.map((f) => (f.detail ? `${f.code}: ${f.detail}` : f.code)).join('; ')}`;
  else if (deciding.length > 0) by = ` · ${d.action ?? '?'} by rule ${deciding.join(', ')}`;
  const matched = others.length > 0 ? ` · matched, did not decide: ${others.map((id) => `${id} (${ruleActions.get(id) ?? '?'})`).join(', ')}` : '';
  return `score ${d.score ?? '?'} · ${risk || 'no reasons'}${by}${matched}`;
}

/** Runs a warden CLI command and returns its exit code and output. */
export function runWarden(args: readonly string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}
