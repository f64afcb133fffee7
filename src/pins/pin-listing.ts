import type { DefinitionPin, PinnedEntry } from './pin-file.js';

/** `acceptedBy` of tools pinned by trust on first use. */
export const BY_FIRST_USE = 'first-use';
/** `acceptedBy` of tools pinned automatically by `pins.onNew: allow`. */
export const BY_ON_NEW_ALLOW = 'auto (pins.onNew: allow)';

/**
 * Whether a tool may appear in the `tools/list` the agent (and so the model) reads, and if not,
 * why: `changed` (a rug pull: the definition differs from the accepted pin), `new` (never
 * accepted), `poisoned` (carries text aimed at the model that no operator accepted), `unseen`
 * (warden has not judged the definition being listed; fail closed).
 */
export type PinListing = { readonly listed: true } | { readonly listed: false; readonly why: 'changed' | 'new' | 'poisoned' | 'unseen' };

/** True when a person accepted the pin (`warden pins accept`), not trust on first use or onNew: allow. */
export function acceptedByOperator(pinned: PinnedEntry): boolean {
  return pinned.acceptedBy !== BY_FIRST_USE && pinned.acceptedBy !== BY_ON_NEW_ALLOW;
}

/**
 * The listing rule. Only the accepted definition is ever shown: a held definition is left out
 * rather than replaced by the pinned one, because the upstream no longer serves the pinned one
 * (its schema may differ), calls stay held anyway, and its text can steer how the model uses
 * other tools (tool shadowing) even if the tool itself is never called.
 *
 * @param seenDigest digest of the definition being listed now; undefined when it was not judged
 * @param poisoned whether the scan of that definition found text aimed at the model
 */
export function listingOf(pin: DefinitionPin | undefined, seenDigest: string | undefined, poisoned: boolean): PinListing {
  if (seenDigest === undefined) return { listed: false, why: 'unseen' };
  const pinned = pin?.pinned;
  if (!pinned) return { listed: false, why: 'new' };
  if (pinned.digest !== seenDigest) return { listed: false, why: pin.pending?.kind === 'new' ? 'new' : 'changed' };
  // Automatic trust never covers instructions aimed at the model (pin files written before the
  // scan gated automatic pinning may still hold such a pin): only a person can accept that text.
  if (poisoned && !acceptedByOperator(pinned)) return { listed: false, why: 'poisoned' };
  return { listed: true };
}
