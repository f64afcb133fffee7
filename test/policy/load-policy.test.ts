import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';

const BAD = join(import.meta.dirname, '../fixtures/policy/bad');

/** [fixture, attack or mistake it stands for, expected key path of the first problem] */
const CASES: [string, string, string | undefined][] = [
  ['wrong-type.yaml', 'a string where a number belongs', 'thresholds.throttle'],
  ['unknown-key.yaml', 'a misspelt key (acton) is not silently ignored', 'rules[0]'],
  ['bad-regex.yaml', 'a regex that does not compile', 'rules[0].match.arguments[0].regex'],
  ['redos-regex.yaml', 'a catastrophic-backtracking regex (ReDoS)', 'rules[0].match.arguments[0].regex'],
  ['threshold-order.yaml', 'thresholds out of order', 'thresholds'],
  ['duplicate-rule-id.yaml', 'two rules with one id', 'rules[1].id'],
  ['bad-upstream-glob.yaml', 'unknown upstream glob syntax', 'rules[0].match.upstreams[0]'],
  ['unbalanced-glob.yaml', 'an unbalanced bracket glob', 'sensitivity[0].tools[0]'],
  ['globstar-name.yaml', 'a path globstar in a name glob', 'sensitivity[0].tools[0]'],
  ['bad-action.yaml', 'an action that does not exist', 'rules[0].action'],
  ['missing-version.yaml', 'no version', 'version'],
  ['hide-not-block.yaml', 'hide on a non-block rule', 'rules[0].hide'],
  ['hide-with-arguments.yaml', 'hide depending on arguments', 'rules[0].match.arguments'],
  ['two-operators.yaml', 'an ambiguous condition with two operators', 'rules[0].match.arguments[0]'],
  ['no-operator.yaml', 'a condition without operator', 'rules[0].match.arguments[0]'],
  ['bad-timezone.yaml', 'an unknown timezone', 'anomalies.context.hours.timezone'],
  ['bad-duration.yaml', 'a duration in prose', 'anomalies.rate.window'],
  ['relative-within.yaml', 'a relative containment root', 'rules[0].match.arguments[0].within[0]'],
  ['root-not-mapping.yaml', 'a list instead of a mapping', '(root)'],
  ['unsafe-redact-pattern.yaml', 'a ReDoS redact pattern', 'redact.patterns[0]'],
  ['quadratic-redact-pattern.yaml', 'a redact pattern that backtracks polynomially on a long argument', 'redact.patterns[1]'],
  ['critical-default-allow.yaml', 'a default that allows critical tools', 'defaults.critical'],
  ['bad-rule-id.yaml', 'a rule id with spaces', 'rules[0].id'],
  ['bad-sensitivity.yaml', 'an unknown sensitivity level', 'sensitivity[0].level'],
  ['bad-regex-flags.yaml', 'a stateful regex flag', 'rules[0].match.arguments[0].flags'],
  ['negative-weight.yaml', 'a negative weight that would lower scores', 'anomalies.burst.weight'],
  ['unknown-anomaly-key.yaml', 'an unknown anomaly setting', 'anomalies.rate'],
  ['proto-key.yaml', 'a __proto__ key cannot switch the policy to monitor mode', '__proto__'],
  ['proto-per-class.yaml', 'a __proto__ class limit, which a map would drop without a word', 'anomalies.rate.perClass.__proto__'],
  ['review-two-operators-in-when.yaml', 'two operators in a sensitivity when (from the review)', 'sensitivity[3].when[0]'],
  ['flags-without-regex.yaml', 'regex flags on a glob', 'rules[0].match.arguments[0].flags'],
  ['nocase-numeric.yaml', 'nocase on a numeric comparison', 'rules[0].match.arguments[0].nocase'],
  ['novelty-inner-globstar.yaml', 'a novelty path with ** before its end, which finds nothing and so never counts a payee as new', 'anomalies.novelty.arguments[0].path'],
  ['unknown-reason-code.yaml', 'a misspelt reason code (rate.tools), which would leave a block rule that never fires', 'rules[0].match.reasons[1]'],
  ['reason-after-rules.yaml', 'a reason code added after rules are matched (a floor), which no rule ever sees', 'rules[0].match.reasons[0]'],
  ['per-class-typo.yaml', 'a per-class rate limit for a class no tool has (a typo), which would never apply', 'anomalies.rate.perClass.paymnets'],
  ['yaml-syntax.yaml', 'broken YAML', undefined],
  ['duplicate-yaml-key.yaml', 'a duplicated YAML key', undefined],
];

function loadError(file: string): ConfigError {
  try {
    loadPolicySync([file]);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`${file} loaded but should have been rejected`);
}

describe('policy files are rejected at load with file and key path', () => {
  it.each(CASES)('%s: rejects %s', (name, _why, keyPath) => {
    const file = join(BAD, name);
    const err = loadError(file);
    expect(err.code).toBe('config_invalid');
    expect(err.file).toBe(file);
    expect(err.keyPath).toBe(keyPath);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
  });

  it('says where broken YAML breaks once, without a dangling colon', () => {
    const message = loadError(join(BAD, 'yaml-syntax.yaml')).message.split('\n')[0] as string;
    expect(message).toMatch(/: not valid YAML \(line \d+, column \d+\): \S/);
    expect(message).not.toMatch(/at line \d+, column \d+/);
    expect(message.endsWith(':')).toBe(false);
  });

  it('names the reason code a misspelt one most likely meant', () => {
    expect(loadError(join(BAD, 'unknown-reason-code.yaml')).message).toContain("unknown reason code 'rate.tools' (did you mean 'rate.tool'?)");
    expect(loadError(join(BAD, 'reason-after-rules.yaml')).message).toContain('added after rules are matched');
  });

  it('names the class a misspelt per-class limit most likely meant', () => {
    expect(loadError(join(BAD, 'per-class-typo.yaml')).message).toContain("(did you mean 'payments'?)");
  });

  it('accepts a per-class limit for a class an overlay defines, a level used as a class, and unclassified', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-per-class-'));
    const base = join(dir, 'base.yaml');
    const overlay = join(dir, 'overlay.yaml');
    writeFileSync(base, 'version: 1\nsensitivity: [{ tools: [echo], level: low }]\nanomalies: { rate: { perClass: { payments: 5, low: 9, unclassified: 3 } } }\n');
    writeFileSync(overlay, 'sensitivity: [{ tools: [pay], level: high, class: payments }]\n');
    expect(() => loadPolicySync([base, overlay])).not.toThrow();
    expect(() => loadPolicySync([base])).toThrow(ConfigError);
  });

  it('names a missing file', () => {
    const err = loadError(join(BAD, 'does-not-exist.yaml'));
    expect(err.code).toBe('config_invalid');
    expect(err.file).toContain('does-not-exist.yaml');
  });

  it('covers every fixture file', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(BAD).sort()).toEqual(CASES.map((c) => c[0]).sort());
  });
});
