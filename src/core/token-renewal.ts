import { principalKey, type Principal } from './principal.js';

/**
 * Whether `current`, the stdio token in force now (the token file, refreshed beside the agent),
 * stands in for `presented`, the token a waiting call or a standing subscription was made on and
 * that is past its `exp`: the same caller (issuer, user and actor chain), valid now, and in
 * standing (a revoked token still verifies). One rule for calls that waited (create-guard.ts) and
 * for subscriptions (standing-subscriptions.ts). A check that throws says no (fail closed).
 */
export function renewalStands(presented: Principal, current: Principal | undefined, validNow: (p: Principal) => boolean, inStanding: (p: Principal) => boolean): boolean {
  if (current === undefined) return false;
  try {
    return principalKey(current) === principalKey(presented) && validNow(current) && inStanding(current);
  } catch {
    return false;
  }
}
