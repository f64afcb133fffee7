import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { policyFrom, principal, READ_ONLY, signals } from '../helpers/policy-helpers.js';

const POLICY = policyFrom(`
version: 1
sensitivity: [{ tools: ['*'], level: low }]
rules:
  - { id: by-upstream, match: { upstreams: ['fs*'], tools: [read] }, action: throttle }
  - { id: by-agent, match: { agents: ['rogue-*'] }, action: block }
  - { id: direct-only, match: { tools: [admin], agentPresent: true }, action: block }
  - { id: scopes-all, match: { tools: [s1], scopes: { all: [a, b] } }, action: approve }
  - { id: scopes-any, match: { tools: [s2], scopes: { any: [a, b] } }, action: approve }
  - { id: scopes-none, match: { tools: [s3], scopes: { none: [a] } }, action: approve }
  - { id: tenant, match: { tools: [t], claims: [{ path: tenant, eq: acme, not: true }] }, action: block }
  - { id: negated-glob, match: { tools: ['!safe_*'], users: ['mallory*'] }, action: approve }
  - { id: corp-admin, match: { tools: [wire], issuers: ['https://idp.corp.example'], users: [alice] }, action: allow }
  - { id: our-deployer, match: { tools: [deploy], agents: [deployer], agentIssuers: ['https://agents.corp.example'] }, action: allow }
  - { id: any-deployer, match: { tools: [deploy2], agents: [deployer] }, action: block }
`);

function rules(tool: string, p: Partial<Principal> = {}, upstream = 'acme'): readonly string[] {
  return evaluate(POLICY, { principal: principal(p), call: { upstream, tool, arguments: {}, toolDefinition: READ_ONLY }, signals: signals(), now: 0 }).rules;
}

describe('rule matching', () => {
  it('upstream globs', () => {
    expect(rules('read', {}, 'fs-main')).toEqual(['by-upstream']);
    expect(rules('read', {}, 'acme')).toEqual([]);
  });
  it('agent globs never match a call without an agent', () => {
    expect(rules('x', { actor: 'rogue-1' })).toEqual(['by-agent']);
    expect(rules('x', { actor: undefined })).toEqual([]);
  });
  it('agentPresent separates delegated calls from direct ones', () => {
    expect(rules('admin', { actor: 'a' })).toEqual(['direct-only']);
    expect(rules('admin', { actor: undefined })).toEqual([]);
  });
  it('scopes all / any / none', () => {
    expect(rules('s1', { scopes: ['a'] })).toEqual([]);
    expect(rules('s1', { scopes: ['a', 'b'] })).toEqual(['scopes-all']);
    expect(rules('s2', { scopes: ['b'] })).toEqual(['scopes-any']);
    expect(rules('s2', { scopes: [] })).toEqual([]);
    expect(rules('s3', { scopes: [] })).toEqual(['scopes-none']);
    expect(rules('s3', { scopes: ['a'] })).toEqual([]);
  });
  it('a missing tenant claim counts as another tenant (fail safe)', () => {
    expect(rules('t', { claims: { tenant: 'acme' } })).toEqual([]);
    expect(rules('t', { claims: { tenant: 'other' } })).toEqual(['tenant']);
    expect(rules('t', { claims: {} })).toEqual(['tenant']);
  });
  it('negated name globs', () => {
    expect(rules('safe_read', { user: 'mallory@x' })).toEqual([]);
    expect(rules('danger', { user: 'mallory@x' })).toEqual(['negated-glob']);
  });
  it("issuers: alice at another trusted identity provider does not get the corp alice's allow (sub is unique only within an issuer)", () => {
    expect(rules('wire', { issuer: 'https://idp.corp.example', user: 'alice' })).toEqual(['corp-admin']);
    expect(rules('wire', { issuer: 'https://social-login.example', user: 'alice' })).toEqual([]);
    expect(rules('wire', { issuer: 'https://idp.corp.example/', user: 'alice' })).toEqual([]);
  });
  it("agentIssuers: an agent with the same sub from a co-tenant issuer does not get our agent's allow", () => {
    const corp = 'https://agents.corp.example';
    expect(rules('deploy', { actor: 'deployer', actorIssuer: corp })).toEqual(['our-deployer']);
    expect(rules('deploy', { actor: 'deployer', actorIssuer: 'https://agents.cotenant.example' })).toEqual([]);
    // An act without `iss` names an agent of the token issuer's namespace.
    expect(rules('deploy', { actor: 'deployer', actorIssuer: undefined })).toEqual([]);
    expect(rules('deploy', { issuer: corp, actor: 'deployer', actorIssuer: undefined })).toEqual(['our-deployer']);
    expect(rules('deploy', { actor: undefined })).toEqual([]);
  });
  it('agents without agentIssuers matches the agent name from any issuer, as before (a block is never narrowed)', () => {
    for (const actorIssuer of [undefined, 'https://agents.corp.example', 'https://agents.cotenant.example']) {
      expect(rules('deploy2', { actor: 'deployer', actorIssuer })).toEqual(['any-deployer']);
    }
  });
});
