import { describe, expect, it } from 'vitest';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { MemoryAudit, principal } from './set-helpers.js';

/**
 * token-claims-change carries the new values of the claims that changed. A scope reduction must
 * reach Principal.scopes (what policy rules match) whichever claim the IdP writes scopes in: the
 * token's scopes are read from `scope` (space-separated) and `scp` (array, e.g. Okta), so both
 * count in an override too.
 */
const T0 = 1_700_000_000_000;

async function overridden(claims: Record<string, unknown>): Promise<readonly string[]> {
  const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });
  await registry.overrideClaims({ user: 'alice' }, claims, { at: T0, eventId: 'ev-1', reason: 'claims changed' });
  return registry.effectivePrincipal(principal({ scopes: ['files:read', 'files:write'] }), 's', T0).scopes;
}

describe('token-claims-change and scopes', () => {
  it('a scope reduction sent as scp (array) removes the dropped scope', async () => {
    expect(await overridden({ scp: ['files:read'] })).toEqual(['files:read']);
  });

  it('a scope reduction sent as scope (space-separated string) removes the dropped scope', async () => {
    expect(await overridden({ scope: 'files:read' })).toEqual(['files:read']);
  });

  it('a scope claim sent as an array still replaces the scopes', async () => {
    expect(await overridden({ scope: ['files:read'] })).toEqual(['files:read']);
  });

  it('an override without scope or scp leaves the scopes alone', async () => {
    expect(await overridden({ groups: ['x'] })).toEqual(['files:read', 'files:write']);
  });
});

describe('email subjects and principals with two addresses', () => {
  it('an email subject naming the address in sub still revokes when the email claim holds another address', async () => {
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });
    await registry.revoke({ email: 'alice@corp.example' }, { at: T0, eventId: 'ev-2', reason: 'r', by: 'test' });
    const p = principal({ user: 'alice@corp.example', claims: { email: 'alice.smith@corp.example' }, issuedAt: T0 / 1000 - 60 });
    expect(registry.evaluate(p, 's', T0).kind).toBe('revoked');
  });
});
