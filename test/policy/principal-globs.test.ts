import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

/**
 * User and agent ids are identifiers, not paths. picomatch reads `/` as a path separator that `*`
 * never crosses, so a block rule on `*@contractor.example` missed the (valid) address
 * `x/y@contractor.example`, `agents: ['*']` missed every SPIFFE-style agent id
 * (`spiffe://acme.example/agent/coder`), and ids holding `..` segments dodged `*` as well.
 */
const POLICY = policyFrom(`
version: 1
sensitivity: [{ tools: ['*'], level: low }]
rules:
  - { id: no-contractors, match: { users: ['*@contractor.example'] }, action: block }
  - { id: delegated-needs-human, match: { tools: [pay], agents: ['*'] }, action: approve }
  - { id: fleet-agents, match: { tools: [deploy], agents: ['spiffe://acme.example/agent/*'] }, action: block }
  - { id: exact-service, match: { tools: [report], users: ['svc/reporter'] }, action: allow }
  - { id: keys-anywhere, match: { tools: ['*'], arguments: [{ path: '**', regex: 'BEGIN [A-Z ]*PRIVATE KEY' }] }, action: block }
`);

function rules(tool: string, p: Partial<Principal>, args: Record<string, unknown> = {}): readonly string[] {
  return evaluate(POLICY, { principal: principal(p), call: { upstream: 'acme', tool, arguments: args, toolDefinition: READ_ONLY }, signals: signals(), now: 0 }).rules;
}

describe('user and agent globs: a slash in an id is an ordinary character', () => {
  it.each(['x/y@contractor.example', '../x@contractor.example', 'a/./b@contractor.example', 'x@contractor.example'])(
    'a block rule on *@contractor.example fires for %s',
    (user) => {
      expect(rules('echo', { user })).toContain('no-contractors');
    },
  );
  it('agents: [*] matches a SPIFFE-style agent id', () => {
    expect(rules('pay', { actor: 'spiffe://acme.example/agent/coder' })).toEqual(['delegated-needs-human']);
    expect(rules('pay', { actor: undefined })).toEqual([]);
  });
  it('a * after a slash in the glob covers the rest of the id, slashes included', () => {
    expect(rules('deploy', { actor: 'spiffe://acme.example/agent/team/coder' })).toEqual(['fleet-agents']);
    expect(rules('deploy', { actor: 'spiffe://evil.example/agent/coder' })).toEqual([]);
  });
  it('literal slashes still match only themselves, and % in an id is not a wildcard', () => {
    expect(rules('report', { user: 'svc/reporter' })).toEqual(['exact-service']);
    expect(rules('report', { user: 'svc%2Freporter' })).toEqual([]);
    expect(rules('report', { user: 'svc-reporter' })).toEqual([]);
  });
  it('tools: [*] covers a tool name with a slash (a lone upstream\'s names reach the policy untouched)', () => {
    const key = { content: '-----BEGIN OPENSSH PRIVATE KEY-----' };
    expect(rules('fs/write', {}, key)).toEqual(['keys-anywhere']);
    expect(evaluate(POLICY, { principal: principal(), call: { upstream: 'acme', tool: 'fs/write', arguments: {}, toolDefinition: READ_ONLY }, signals: signals(), now: 0 }).sensitivity).toBe('low');
  });
});
