import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { parseConfigDocument } from '../../src/config/load-config.js';
import { configErrorFromZod } from '../../src/config/zod-error.js';
import { validatePolicy } from '../../src/policy/load-policy.js';
import { ScenarioSchema } from '../../src/policy/scenario-schema.js';
import { configErrorOf } from '../helpers/config-error-of.js';

const UPSTREAMS = { fs: { command: 'node' } };

function configMessage(document: Record<string, unknown>): string {
  return configErrorOf(() => parseConfigDocument({ upstreams: UPSTREAMS, ...document }, 'warden.yaml', WardenConfigSchema)).message;
}

function policyMessage(document: Record<string, unknown>): string {
  return configErrorOf(() => validatePolicy({ version: '1', ...document }, 'policy.yaml')).message;
}

describe('an unknown key in warden.yaml names the key it most likely meant', () => {
  /** [what the operator wrote, the line the error must carry] */
  const CASES: Array<[string, Record<string, unknown>, string]> = [
    ['a top-level key', { limts: {} }, "warden.yaml: (root): unknown key 'limts' (did you mean 'limits'?)"],
    ['a nested key (swapped letters)', { listen: { stdoi: true } }, "warden.yaml: listen: unknown key 'stdoi' (did you mean 'stdio'?)"],
    ['three levels down', { listen: { http: { port: 0, maxBodyByte: 1 } } }, "warden.yaml: listen.http: unknown key 'maxBodyByte' (did you mean 'maxBodyBytes'?)"],
    ['snake_case for camelCase', { listen: { http: { port: 0, max_request_bytes_in_flight: 1 } } }, "warden.yaml: listen.http: unknown key 'max_request_bytes_in_flight' (did you mean 'maxRequestBytesInFlight'?)"],
    ['a stdio upstream (first union branch) under a record', { upstreams: { fs: { comand: 'node', args: [] } } }, "warden.yaml: upstreams.fs: unknown key 'comand' (did you mean 'command'?)"],
    ['a stdio upstream whose other keys are right', { upstreams: { fs: { command: 'node', ags: [] } } }, "warden.yaml: upstreams.fs: unknown key 'ags' (did you mean 'args'?)"],
    ['an HTTP upstream (second union branch)', { upstreams: { api: { url: 'https://example.com/mcp', header: {} } } }, "warden.yaml: upstreams.api: unknown key 'header' (did you mean 'headers'?)"],
    ['a union of one-key objects (identity.token)', { identity: { resource: 'https://w.example', issuers: [{ issuer: 'https://i.example', audience: 'w', jwksUri: 'https://i.example/jwks' }], token: { fiel: '/t' } } }, "warden.yaml: identity.token: unknown key 'fiel' (did you mean 'file'?)"],
    ['an audit section key', { audit: { fsnc: 'always' } }, "warden.yaml: audit: unknown key 'fsnc' (did you mean 'fsync'?)"],
  ];
  it.each(CASES)('%s', (_what, document, line) => {
    expect(configMessage(document).split('\n')).toContain(line);
  });

  it('a key close to nothing gets no guess, and the allowed keys when they are few', () => {
    expect(configMessage({ listen: { tcp: true } })).toBe("warden.yaml: listen: unknown key 'tcp' (expected one of: stdio, http)");
  });
  it('a key close to nothing among many allowed keys is named alone', () => {
    expect(configMessage({ zzzz: 1 })).toBe("warden.yaml: (root): unknown key 'zzzz'");
  });
  it('several unknown keys each get their own guess', () => {
    expect(configMessage({ listen: { stdoi: true, tcp: true } })).toBe(
      "warden.yaml: listen: unknown keys 'stdoi' (did you mean 'stdio'?), 'tcp' (expected one of: stdio, http)",
    );
  });
  it('a key the object already sets is not guessed for a misspelt copy of it', () => {
    expect(configMessage({ upstreams: { fs: { command: 'node', comand: 'node' } } })).toBe(
      "warden.yaml: upstreams.fs: unknown key 'comand' (expected one of: command, args, env, cwd)",
    );
  });
  it('two edits are too many for a short key (a different word is no typo)', () => {
    expect(configMessage({ listen: { htt: {} } })).toContain("unknown key 'htt' (did you mean 'http'?)");
    expect(configMessage({ listen: { hp: {} } })).toBe("warden.yaml: listen: unknown key 'hp' (expected one of: stdio, http)");
  });
});

describe('an unknown key in a policy file names the key it most likely meant', () => {
  const CASES: Array<[string, Record<string, unknown>, string]> = [
    ['a top-level key', { defualts: {} }, "policy.yaml: (root): unknown key 'defualts' (did you mean 'defaults'?)"],
    ['a rule key', { rules: [{ id: 'r', action: 'block', mach: {} }] }, "policy.yaml: rules[0]: unknown key 'mach' (did you mean 'match'?)"],
    ['a rule match key', { rules: [{ id: 'r', action: 'block', match: { tool: ['x'] } }] }, "policy.yaml: rules[0].match: unknown key 'tool' (did you mean 'tools'?)"],
    ['a condition key', { rules: [{ id: 'r', action: 'block', match: { arguments: [{ path: 'a', eq: 1, nocse: true }] } }] }, "policy.yaml: rules[0].match.arguments[0]: unknown key 'nocse' (did you mean 'nocase'?)"],
    ['a refined object (thresholds)', { thresholds: { aprove: 60 } }, "policy.yaml: thresholds: unknown key 'aprove' (did you mean 'approve'?)"],
    ['an anomalies key', { anomalies: { rates: {} } }, "policy.yaml: anomalies: unknown key 'rates' (did you mean 'rate'?)"],
  ];
  it.each(CASES)('%s', (_what, document, line) => {
    expect(policyMessage(document).split('\n')).toContain(line);
  });

  it('a scenario expectation (the object branch of a union with a string enum)', () => {
    const input = { name: 's', policy: 'p.yaml', principals: { a: { user: 'u' } }, steps: [{ as: 'a', tool: 'fs__read', expect: { actoin: 'allow' } }] };
    const parsed = ScenarioSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(configErrorFromZod(parsed.error, 's.yaml', { schema: ScenarioSchema, input }).message).toContain("unknown key 'actoin' (did you mean 'action'?)");
  });
});

describe('the hint never costs the error', () => {
  const Strict = z.strictObject({ stdio: z.boolean().optional() });
  const error = Strict.safeParse({ stdoi: true }).error!;

  it('a schema the path does not lead through leaves the message as it was', () => {
    const unrelated = z.strictObject({ other: z.strictObject({ stdio: z.boolean() }) });
    expect(configErrorFromZod(error, 'f.yaml', { schema: z.array(unrelated), input: { stdoi: true } }).message).toBe("f.yaml: (root): unknown key 'stdoi'");
  });
  it('a schema whose walk throws (a lazy getter) leaves the message as it was', () => {
    const throwing = z.lazy((): z.ZodType => {
      throw new Error('boom');
    });
    expect(configErrorFromZod(error, 'f.yaml', { schema: throwing }).message).toBe("f.yaml: (root): unknown key 'stdoi'");
  });
  it('without the schema the message is as before', () => {
    expect(configErrorFromZod(error, 'f.yaml').message).toBe("f.yaml: (root): unknown key 'stdoi'");
  });
  it('lazy, pipe and nullable wrappers are followed', () => {
    const wrapped = z.lazy(() => z.strictObject({ inner: Strict.transform((v) => v).nullable().optional() }));
    const input = { inner: { stdoi: true } };
    expect(configErrorFromZod(wrapped.safeParse(input).error!, 'f.yaml', { schema: wrapped, input }).message).toBe("f.yaml: inner: unknown key 'stdoi' (did you mean 'stdio'?)");
  });
});
