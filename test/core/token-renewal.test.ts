import { describe, expect, it } from 'vitest';
import { renewalStands } from '../../src/core/token-renewal.js';
import type { Principal } from '../../src/core/principal.js';
import { makePrincipal } from '../helpers/principal-builder.js';

/** The rule shared by calls that waited past their token's exp and standing subscriptions. */
const presented = makePrincipal({ issuer: 'https://idp.test', user: 'alice', actor: 'agent-7', expiresAt: 1_000 });
const valid = (): boolean => true;
const standing = (): boolean => true;

describe('renewalStands: the token in force now standing in for an expired one', () => {
  it('a renewed token of the same caller, valid and in standing, stands in', () => {
    expect(renewalStands(presented, { ...presented, expiresAt: 2_000 }, valid, standing)).toBe(true);
  });

  const refusals: Array<[string, Principal | undefined, (p: Principal) => boolean, (p: Principal) => boolean]> = [
    ['no token in force (the file is gone or unreadable)', undefined, valid, standing],
    ['another user\'s token dropped into the token file', { ...presented, user: 'mallory' }, valid, standing],
    ['the same user through another agent', { ...presented, actor: 'agent-8' }, valid, standing],
    ['the same names from another issuer', { ...presented, issuer: 'https://evil.test' }, valid, standing],
    ['a renewal that is itself expired', presented, () => false, standing],
    ['a renewal that is revoked (a revoked token still verifies)', presented, valid, () => false],
    [
      'a standing check that throws (fail closed)',
      presented,
      valid,
      () => {
        throw new Error('registry unavailable');
      },
    ],
  ];
  it.each(refusals)('does not stand in: %s', (_name, current, validNow, inStanding) => {
    expect(renewalStands(presented, current, validNow, inStanding)).toBe(false);
  });
});
