import { describe, expect, it } from 'vitest';
import { applySet } from '../../src/events/apply-set.js';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import type { VerifiedSet } from '../../src/events/set-verifier.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, CAEP, ISSUER, MemoryAudit, principal } from './set-helpers.js';

/**
 * An `email` or `opaque` subject names no issuer. For a revocation or a step-up that only ever
 * over-applies (stricter for a same-named user at another issuer), but a claims change can add
 * scopes and groups: with two token issuers, an event about alice@a at issuer A would also raise
 * the claims of a different alice@a whose tokens come from issuer B.
 */
const T0 = 1_700_000_000_000;
const OTHER = 'https://other-idp.example';
const config = EventsConfigSchema.parse({
  transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: 'https://idp.test.example/jwks' }, algorithms: ['ES256'] },
});

function claimsChange(subId: unknown): VerifiedSet {
  return { jti: `j-${Math.random()}`, iss: ISSUER, iat: T0 / 1000, subId, txn: undefined, events: { [`${CAEP}token-claims-change`]: { event_timestamp: T0 / 1000, claims: { groups: ['admins'], scope: 'admin:all' } } } };
}

async function applied(tokenIssuers: readonly string[], subId: unknown) {
  const audit = new MemoryAudit();
  const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => T0 });
  const outcomes = await applySet(claimsChange(subId), { config, registry, audit, now: T0, tokenIssuers });
  const seen = (issuer: string) => registry.effectivePrincipal(principal({ issuer, user: 'u-1', claims: { email: 'alice@a.example' }, scopes: ['files:read'] }), 's', T0);
  return { outcomes, seen };
}

describe('token-claims-change with a subject that names no issuer', () => {
  it('does not raise the claims of a same-addressed user at another token issuer (two issuers configured)', async () => {
    const { outcomes, seen } = await applied([ISSUER, OTHER], { format: 'email', email: 'alice@a.example' });
    expect(seen(OTHER).scopes).toEqual(['files:read']);
    expect(seen(ISSUER).scopes).toEqual(['files:read']);
    expect(outcomes[0]).toMatchObject({ effect: 'none' });
    expect(outcomes[0]?.reason).toMatch(/iss_sub/);
  });

  it('applies to the one token issuer when only one is configured', async () => {
    const { outcomes, seen } = await applied([ISSUER], { format: 'email', email: 'alice@a.example' });
    expect(outcomes[0]).toMatchObject({ effect: 'claims' });
    expect(seen(ISSUER).scopes).toEqual(['admin:all']);
    expect(seen(OTHER).scopes).toEqual(['files:read']);
  });

  it('applies an iss_sub claims change to its own issuer only, whatever the number of issuers', async () => {
    const { outcomes, seen } = await applied([ISSUER, OTHER], { format: 'iss_sub', iss: ISSUER, sub: 'u-1' });
    expect(outcomes[0]).toMatchObject({ effect: 'claims' });
    expect(seen(ISSUER).scopes).toEqual(['admin:all']);
    expect(seen(OTHER).scopes).toEqual(['files:read']);
  });
});

/**
 * An operator whose IdP writes `iss` as `https://idp.example/` while identity.issuers says
 * `https://idp.example` would see "revoked" and stay exposed: the entry can match no token.
 */
describe('a security event for an issuer warden does not accept tokens from', () => {
  const revokeFor = (iss: string): VerifiedSet => ({ jti: `j-${Math.random()}`, iss: ISSUER, iat: T0 / 1000, subId: { format: 'iss_sub', iss, sub: 'alice' }, txn: undefined, events: { [`${CAEP}session-revoked`]: { event_timestamp: T0 / 1000 } } });

  it('a revocation silently lost to an issuer spelled differently (trailing slash) is flagged in the outcome and the audit', async () => {
    const audit = new MemoryAudit();
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => T0 });
    const outcomes = await applySet(revokeFor(`${ISSUER}/`), { config, registry, audit, now: T0, tokenIssuers: [ISSUER] });
    expect(outcomes[0]).toMatchObject({ effect: 'revoke', unknownIssuer: `${ISSUER}/` });
    expect(audit.ofType('event.effect')[0]).toMatchObject({ effect: 'revoke', issuerUnknown: true });
  });

  it('a subject of a configured token issuer is not flagged', async () => {
    const audit = new MemoryAudit();
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => T0 });
    const outcomes = await applySet(revokeFor(ISSUER), { config, registry, audit, now: T0, tokenIssuers: [ISSUER, OTHER] });
    expect(outcomes[0]?.unknownIssuer).toBeUndefined();
    expect(audit.ofType('event.effect')[0]).not.toHaveProperty('issuerUnknown');
  });
});
