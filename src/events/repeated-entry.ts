import { canonicalJson } from '../core/canonical-json.js';
import type { RegistryEntry } from './registry-entry.js';

/**
 * Whether `candidate` would only repeat `existing`, an entry already in force: the same kind,
 * subject and effect (the same claims; the same step-up; a revocation by the same party), from the same event (`eventId`, the
 * SET's jti) or with the same cut-off, and `existing` cuts off no earlier, so it covers every
 * token the candidate would (a retried SET whose cut-off came out later, its transmitter's clock
 * running ahead, is not a repeat: it revokes more). Such a candidate adds nothing to what is in
 * force.
 */
export function repeatsEntry(existing: RegistryEntry, candidate: RegistryEntry): boolean {
  if (existing.kind !== candidate.kind) return false;
  if (existing.eventId !== candidate.eventId && existing.at !== candidate.at) return false;
  if (!(existing.at >= candidate.at)) return false;
  if (canonicalJson(existing.match) !== canonicalJson(candidate.match)) return false;
  switch (existing.kind) {
    case 'revoke':
      // Made by someone else (another operator, another transmitter), it is their revocation: kept
      // as its own entry so the trail says who revoked.
      return candidate.kind === 'revoke' && existing.by === candidate.by;
    case 'step_up':
      return candidate.kind === 'step_up' && existing.minSensitivity === candidate.minSensitivity && existing.action === candidate.action;
    case 'claims':
      return candidate.kind === 'claims' && canonicalJson(existing.claims) === canonicalJson(candidate.claims);
  }
}
