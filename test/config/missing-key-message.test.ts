import { describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { parseConfigDocument } from '../../src/config/load-config.js';
import { validatePolicy } from '../../src/policy/load-policy.js';
import { configErrorOf } from '../helpers/config-error-of.js';

function configMessage(document: Record<string, unknown>): string {
  return configErrorOf(() => parseConfigDocument(document, 'warden.yaml', WardenConfigSchema)).message;
}

/**
 * zod's own wording for a key left out, "Invalid input: expected number, received undefined",
 * reads as if a wrong value had been written; the operator has to add the key.
 */
describe('a required key left out says it is missing', () => {
  const CASES: Array<[string, Record<string, unknown>, string]> = [
    ['an empty config', {}, 'warden.yaml: upstreams: required key is missing (expected record)'],
    ['listen.http without port', { upstreams: { fs: { command: 'node' } }, dangerouslyAllowAnonymous: true, listen: { http: { host: '127.0.0.1' } } }, 'warden.yaml: listen.http.port: required key is missing (expected number)'],
    ['an upstream without command', { upstreams: { fs: { args: [] } }, dangerouslyAllowAnonymous: true }, 'warden.yaml: upstreams.fs.command: required key is missing (expected string)'],
  ];
  it.each(CASES)('%s', (_what, document, line) => {
    const message = configMessage(document);
    expect(message.split('\n')).toContain(line);
    expect(message).not.toContain('received undefined');
  });

  it('a wrong value keeps its wrong-type message', () => {
    expect(configMessage({ upstreams: { fs: { command: 'node' } }, dangerouslyAllowAnonymous: true, timeouts: { callMs: '60s' } })).toContain('timeouts.callMs: Invalid input: expected number, received string');
  });

  it('a policy rule without id says the id is missing', () => {
    const message = configErrorOf(() => validatePolicy({ version: '1', rules: [{ match: { tools: ['x'] }, action: 'block' }] }, 'policy.yaml')).message;
    expect(message).toContain('policy.yaml: rules[0].id: required key is missing (expected string)');
  });
});
