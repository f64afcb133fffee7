import { describe, expect, it } from 'vitest';
import { applySet } from '../../src/events/apply-set.js';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import type { VerifiedSet } from '../../src/events/set-verifier.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, CAEP, ISSUER, MemoryAudit, principal } from './set-helpers.js';

/**
 * E-mail subjects are compared case-insensitively, but only in ASCII: JavaScript's toLowerCase()
 * folds the KELVIN SIGN (U+212A) to a plain `k`, so an account whose e-mail claim it could set to
 * `\u212Aate@acme.example` (a self-service profile address) was `kate@acme.example` to warden:
 * a token-claims-change raising kate's claims (groups, scopes) raised the attacker's too, and a
 * revocation of the attacker's own address revoked kate.
 */
const T0 = 1_700_000_000_000;
const KELVIN = '\u212A';
const config = EventsConfigSchema.parse({
  transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: 'https://idp.test.example/jwks' }, algorithms: ['ES256'] },
});

function set(event: string, body: Record<string, unknown>, email: string): VerifiedSet {
  return { jti: `j-${Math.random()}`, iss: ISSUER, iat: T0 / 1000, subId: { format: 'email', email }, txn: undefined, events: { [`${CAEP}${event}`]: { event_timestamp: T0 / 1000, ...body } } };
}

async function registryAfter(s: VerifiedSet) {
  const audit = new MemoryAudit();
  const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit, clock: () => T0 });
  await applySet(s, { config, registry, audit, now: T0, tokenIssuers: [ISSUER] });
  return registry;
}

const holder = (user: string, email: string) => principal({ user, claims: { email }, scopes: ['files:read'], issuedAt: T0 / 1000 - 60 });

describe('e-mail subjects and Unicode case folding', () => {
  it('a claims change raising kate@ does not raise the claims of a token whose address is \\u212Aate@ (Kelvin sign)', async () => {
    const registry = await registryAfter(set('token-claims-change', { claims: { groups: ['admins'], scope: 'admin:all' } }, 'kate@acme.example'));
    const attacker = registry.effectivePrincipal(holder('u-mallory', `${KELVIN}ate@acme.example`), 's', T0);
    expect(attacker.scopes).toEqual(['files:read']);
    expect(attacker.claims['groups']).toBeUndefined();
    // kate herself, whatever the ASCII case of her address in the token, gets the change.
    expect(registry.effectivePrincipal(holder('u-kate', 'Kate@ACME.example'), 's', T0).scopes).toEqual(['admin:all']);
  });

  it('revoking the address \\u212Aate@ does not revoke kate@', async () => {
    const registry = await registryAfter(set('session-revoked', {}, `${KELVIN}ate@acme.example`));
    expect(registry.evaluate(holder('u-kate', 'kate@acme.example'), 's', T0)).toEqual({ kind: 'ok' });
    expect(registry.evaluate(holder('u-mallory', `${KELVIN}ate@acme.example`), 's', T0).kind).toBe('revoked');
  });

  it('still matches an address that differs only in ASCII case (revocation)', async () => {
    const registry = await registryAfter(set('session-revoked', {}, 'Alice.Smith@ACME.example'));
    expect(registry.evaluate(holder('u-alice', 'alice.smith@acme.example'), 's', T0).kind).toBe('revoked');
    expect(registry.evaluate(principal({ user: 'ALICE.SMITH@acme.example', issuedAt: T0 / 1000 - 60 }), 's', T0).kind).toBe('revoked');
  });
});
