import { describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../src/events/registry-entry.js';
import { repeatsEntry } from '../../src/events/repeated-entry.js';

const revoke = (over: Partial<Extract<RegistryEntry, { kind: 'revoke' }>> = {}): RegistryEntry => ({
  kind: 'revoke', id: 'e1', match: { issuer: 'https://idp', user: 'alice' }, at: 1_000, eventId: 'jti-1', reason: 'r', by: 'event:https://idp', expiresAt: 99_000, ...over,
});

describe('repeatsEntry: which retried event may reuse the entry in force', () => {
  it('the same jti, subject and cut-off repeats (whatever the new id, reason or expiry)', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', reason: 'other', expiresAt: 120_000 }))).toBe(true);
  });

  it('the same subject and cut-off under a new jti repeats (the transmitter minted the event again)', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', eventId: 'jti-2' }))).toBe(true);
  });

  it('the same jti with a later cut-off does not repeat: it revokes more (no retry may weaken a revocation)', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', at: 1_500 }))).toBe(false);
  });

  it('the same jti with an earlier cut-off repeats: the entry in force already covers those tokens', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', at: 500 }))).toBe(true);
  });

  it('a revocation by another party (another operator or transmitter) is its own, even at the same cut-off', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', eventId: 'manual:x', by: 'admin:ops' }))).toBe(false);
  });

  it('another jti with another cut-off is another event', () => {
    expect(repeatsEntry(revoke(), revoke({ id: 'e2', eventId: 'jti-2', at: 500 }))).toBe(false);
  });

  it('another subject, kind, step-up or set of claims is not a repeat', () => {
    expect(repeatsEntry(revoke(), revoke({ match: { issuer: 'https://idp', user: 'bob' } }))).toBe(false);
    expect(repeatsEntry(revoke(), revoke({ match: { issuer: 'https://idp', user: 'alice', email: 'a@x' } }))).toBe(false);
    const stepUp = (action: 'approve' | 'block'): RegistryEntry => ({ kind: 'step_up', id: 's', match: { user: 'alice' }, at: 1, eventId: 'j', reason: 'r', minSensitivity: 'high', action, expiresAt: 9 });
    expect(repeatsEntry(stepUp('approve'), stepUp('block'))).toBe(false);
    expect(repeatsEntry(stepUp('approve'), stepUp('approve'))).toBe(true);
    const claims = (c: Record<string, unknown>): RegistryEntry => ({ kind: 'claims', id: 'c', match: { user: 'alice' }, at: 1, eventId: 'j', reason: 'r', claims: c, expiresAt: 9 });
    expect(repeatsEntry(claims({ a: 1, b: 2 }), claims({ b: 2, a: 1 }))).toBe(true);
    expect(repeatsEntry(claims({ a: 1 }), claims({ a: 2 }))).toBe(false);
    expect(repeatsEntry(revoke(), { ...stepUp('approve'), match: revoke().match, at: 1_000, eventId: 'jti-1' })).toBe(false);
  });
});
