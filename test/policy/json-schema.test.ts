import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../../src/policy/json-schema.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';

// ajv is installed with the MCP SDK (which validates tool schemas with it): no new dependency.
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(policyJsonSchema());

const ROOT = join(import.meta.dirname, '../..');
const BAD = join(ROOT, 'test/fixtures/policy/bad');
const yamlAt = (file: string): unknown => parse(readFileSync(file, 'utf8'));

/** Files whose fault is structural, so the JSON Schema must reject them as `policy check` does. */
const STRUCTURAL = [
  'review-two-operators-in-when.yaml',
  'two-operators.yaml',
  'no-operator.yaml',
  'flags-without-regex.yaml',
  'nocase-numeric.yaml',
  'unknown-key.yaml',
  'wrong-type.yaml',
  'missing-version.yaml',
  'bad-action.yaml',
  'relative-within.yaml',
];

describe('policy JSON Schema is as strict as the loader', () => {
  it.each(STRUCTURAL)('rejects %s (and so does the loader)', (f) => {
    expect(validate(yamlAt(join(BAD, f)))).toBe(false);
    expect(() => loadPolicySync([join(BAD, f)])).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
  const shipped = [
    ...readdirSync(join(ROOT, 'policies')).filter((f) => f.endsWith('.yaml')).map((f) => join(ROOT, 'policies', f)),
    join(ROOT, 'examples/demo/demo-policy.yaml'),
  ];
  it.each(shipped)('accepts the shipped policy %s', (file) => {
    const ok = validate(yamlAt(file));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });
  it('accepts every single-operator condition form', () => {
    const conditions = [
      { path: 'a', eq: 1 }, { path: 'a', in: [1] }, { path: 'a', gt: 1 }, { path: 'a', gte: 1 }, { path: 'a', lt: 1 },
      { path: 'a', lte: 1 }, { path: 'a', regex: 'x', flags: 'i' }, { path: ['a', 'b'], glob: '**/x', nocase: true },
      { path: 'a', within: ['/w', 'C:\\work'] }, { path: 'a', contains: 'x' }, { path: '**', exists: true },
    ];
    const policy = { version: 1, rules: [{ id: 'r', match: { arguments: conditions }, action: 'block' }] };
    expect(validate(policy)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });
});
