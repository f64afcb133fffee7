import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyJsonSchemaText } from '../../src/policy/json-schema.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';

const POLICIES = join(import.meta.dirname, '../../policies');
const files = readdirSync(POLICIES).filter((f) => f.endsWith('.yaml'));

describe('shipped policies', () => {
  it('ships a default and at least three examples', () => {
    expect(files).toEqual(expect.arrayContaining(['default.yaml', 'finance.yaml', 'devtools.yaml', 'customer-data.yaml']));
  });
  it.each(files)('%s loads', (f) => {
    const p = loadPolicySync([join(POLICIES, f)]);
    expect(p.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Out of the box an unknown tool is never plain allow.
    expect(p.defaults.unclassifiedAction).not.toBe('allow');
  });
  it('policies/policy.schema.json is up to date (regenerate with `warden policy schema > policies/policy.schema.json`)', () => {
    expect(readFileSync(join(POLICIES, 'policy.schema.json'), 'utf8')).toBe(policyJsonSchemaText());
  });
  it('the JSON Schema is strict (unknown keys rejected by editors too)', () => {
    const schema = JSON.parse(policyJsonSchemaText()) as { additionalProperties: boolean; required: string[] };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('version');
  });
  it('the hash changes with the content and is stable for the same content', () => {
    const a = loadPolicySync([join(POLICIES, 'default.yaml')]);
    const b = loadPolicySync([join(POLICIES, 'default.yaml')]);
    const c = loadPolicySync([join(POLICIES, 'finance.yaml')]);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });
  it('exposes redact settings', () => {
    const p = loadPolicySync([join(POLICIES, 'default.yaml')]);
    expect(p.redact.paths).toContain('payee');
    expect(p.redact.patterns.some((re) => re.test('Bearer abc.def'))).toBe(true);
  });
});

describe('multiple files', () => {
  const dir = join(import.meta.dirname, '../fixtures/policy');
  it('a second file adds rules', () => {
    const p = loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay.yaml')]);
    expect(p.rules.map((r) => r.id)).toEqual(['block-delete', 'extra-rule']);
  });
  it('a second file may not retune thresholds', () => {
    expect(() => loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-bad.yaml')])).toThrow(
      expect.objectContaining({ code: 'config_invalid', keyPath: 'thresholds' }),
    );
  });
  it('a second file may leave out version (an overlay adds rules only)', () => {
    const p = loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-no-version.yaml')]);
    expect(p.rules.map((r) => r.id)).toEqual(['block-delete', 'extra2']);
    expect(p.version).toBe(loadPolicySync([join(dir, 'scenario-policy.yaml')]).version);
  });
  it('a second file may carry version, description and $schema labels', () => {
    const p = loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-labels.yaml')]);
    expect(p.redact.paths).toContain('secret');
    expect(p.classify.length).toBe(loadPolicySync([join(dir, 'scenario-policy.yaml')]).classify.length + 1);
  });
  it('an overlay that retunes the first file is named with what an overlay may set', () => {
    expect(() => loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-bad.yaml')])).toThrow(/overlay\) may set sensitivity, rules, redact/);
  });
  it('the first file still needs version, and the error says so', () => {
    expect(() => loadPolicySync([join(dir, 'overlay-no-version.yaml')])).toThrow(
      expect.objectContaining({ code: 'config_invalid', keyPath: 'version', message: expect.stringContaining('required') }),
    );
  });
  it('rule ids are unique across files', () => {
    expect(() => loadPolicySync([join(dir, 'scenario-policy.yaml'), join(dir, 'overlay-dup.yaml')])).toThrow(
      expect.objectContaining({ code: 'config_invalid', keyPath: 'rules[0].id' }),
    );
  });
});
