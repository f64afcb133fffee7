import type { ApprovalManager } from '../approval/approval-manager.js';
import type { PendingApproval } from '../approval/approval-types.js';
import type { Principal } from '../core/principal.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Clock } from '../core/clock.js';
import type { SubjectEffect } from '../events/registry-entry.js';
import { RegistryFile } from '../events/registry-file.js';
import { needsStepUp } from '../events/registry-rules.js';
import { DEFAULT_REGISTRY_SETTINGS, SubjectRegistry, type RegistrySettings } from '../events/subject-registry.js';
import type { IdentityConfig } from '../identity/identity-config.js';
import type { JwtAuthenticator } from '../identity/jwt-authenticator.js';
import type { Logger } from '../logging/logger.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import type { StateStore } from '../state/state-store.js';
import { grantsOfRevoked } from './revoked-grants.js';

export interface SubjectWiringDeps {
  readonly store: StateStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessions: SessionRegistry;
  readonly authenticator: JwtAuthenticator | undefined;
  readonly approvals: ApprovalManager;
  readonly closeSession: (sessionId: string, reason: string) => Promise<boolean> | undefined;
  /** Ends the standing resource subscriptions of these sessions (their caller was revoked). */
  readonly endSubscriptions: (sessionIds: readonly string[], eventId: string) => void;
  /** Re-judges the standing resource subscriptions of these sessions (a step-up or new claims). */
  readonly recheckSubscriptions: (sessionIds: readonly string[]) => Promise<void> | undefined;
  /** Resolves a config path against the config file's folder. */
  readonly at: (path: string) => string;
}

/** How often a warden looks for revocations other wardens wrote to the shared file. */
const FOLLOW_FILE_MS = 2_000;

/**
 * The subject registry with its reactions wired: a revocation withdraws the subject's pending
 * approvals, drops its cached token verifications, ends its standing resource subscriptions and
 * closes its HTTP sessions. A stdio session
 * stays open (closing it would end the agent's whole connection) and every later call is
 * blocked until a token issued after the event arrives.
 */
export async function createSubjectRegistry(config: WardenConfig, deps: SubjectWiringDeps): Promise<{ registry: SubjectRegistry; stop: () => Promise<void> }> {
  const forgetTokens = (effect: SubjectEffect): void => {
    deps.authenticator?.invalidate((p) => effect.affects(p, undefined));
  };
  const recheckLater = (effect: SubjectEffect): void => {
    deps.recheckSubscriptions(effect.sessionIds)?.catch((err: unknown) => deps.logger.error({ err, eventId: effect.eventId }, 'could not re-judge the standing subscriptions of a subject'));
  };
  const registry = new SubjectRegistry({
    settings: registrySettings(config),
    store: deps.store,
    audit: deps.audit,
    clock: deps.clock,
    logger: deps.logger,
    sessions: { list: () => deps.sessions.list() },
    onRevoke: async (effect) => {
      const affected = new Set(effect.sessionIds);
      const withdrawn = deps.approvals.withdrawWhere(waitingFor(effect), 'revoked');
      forgetTokens(effect);
      // Remembered grants go too: the subject's next token must meet a human again. Picked now,
      // while the sessions the revocation hit are still open (they say whose grants to take).
      const pickGrants = grantsOfRevoked(effect, deps.sessions.list());
      const grantsRetired = deps.approvals.retireGrantsOfRevoked(pickGrants, effect.eventId).catch((err: unknown) => {
        deps.logger.error({ err, eventId: effect.eventId }, 'could not revoke the grants of a revoked subject');
      });
      // The withdrawn calls are answered (approval_withdrawn) through the promise chain the
      // withdrawal resolved; closing their session first would drop those answers and leave the
      // agent waiting for a call that will never complete. Let that chain run before closing.
      if (withdrawn > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      // Standing subscriptions end too, each audited (HTTP sessions before they close, which would
      // end them unrecorded): a stdio session stays open, and the upstream's updates for them
      // must not go on reaching a revoked caller, nor come back with a later token.
      try {
        deps.endSubscriptions(effect.sessionIds, effect.eventId);
      } catch (err) {
        deps.logger.error({ err, eventId: effect.eventId }, 'could not end the subscriptions of a revoked subject');
      }
      const http = deps.sessions.list().filter((s) => affected.has(s.sessionId) && s.transport === 'http');
      await Promise.all([grantsRetired, ...http.map((s) => deps.closeSession(s.sessionId, 'revoked'))]);
      deps.logger.warn({ eventId: effect.eventId, sessions: effect.sessionIds.length, withdrawn }, 'subject revoked');
    },
    // A step-up or new claims leave the caller's sessions open, but may refuse what its standing
    // subscriptions were allowed: re-judged as after a reload. Not awaited: thousands held take
    // seconds (in batches), and the transmitter's SET must be answered without waiting for them.
    onClaimsChange: (effect) => {
      // A pending approval shows the approver the claims the call was judged with; the guard
      // refuses it once answered (claims_changed), so nobody is asked about it: withdrawn now,
      // the agent hears at once and may call again, judged with the claims in force.
      deps.approvals.withdrawWhere(waitingFor(effect), 'claims changed');
      forgetTokens(effect);
      // Its remembered grants go too: the person who made one saw a call judged with the claims
      // the IdP has withdrawn, and its next call must be judged, and seen, with the new ones.
      deps.approvals.retireGrantsOfChangedClaims(grantsOfRevoked(effect, deps.sessions.list()), effect.eventId).catch((err: unknown) => {
        deps.logger.error({ err, eventId: effect.eventId }, 'could not revoke the grants of a subject whose claims changed');
      });
      recheckLater(effect);
    },
    // A step-up that blocks such calls refuses a waiting one after its human's "allow" too
    // (step_up_required): withdrawn now, nobody is asked to approve what cannot run, and the
    // agent hears at once. One that asks for a human leaves the request to its human.
    onStepUp: (effect) => {
      const stepUp = effect.stepUp;
      if (stepUp?.action === 'block') {
        const covered = waitingFor(effect);
        // A record without a sensitivity (written before it was kept) counts as covered: withdrawing errs safe.
        deps.approvals.withdrawWhere((pending, caller) => covered(pending, caller) && (pending.sensitivity === undefined || needsStepUp(pending.sensitivity, stepUp.minSensitivity)), 'step-up required');
      }
      recheckLater(effect);
    },
    ...(config.state.revocationsFile ? { file: new RegistryFile(deps.at(config.state.revocationsFile)) } : {}),
  });
  // A revocations file that is there but unreadable stops start-up (load throws): starting
  // without it would let every token it revoked work again.
  await registry.load();
  const stopFollowing = registry.followFile(FOLLOW_FILE_MS);
  return {
    registry,
    // A write of the revocations file that is under way finishes before warden exits.
    stop: async () => {
      stopFollowing();
      await registry.settled();
    },
  };
}

/**
 * Which pending approvals an entry concerns: those of the sessions it hit, and those whose own
 * caller (the token the waiting call was judged with) it covers. The session alone misses a call
 * of an older token when the session runs as a newer one by now (a refreshed token): that call is
 * refused after any answer, so it must not be left for a person to approve.
 */
function waitingFor(effect: SubjectEffect): (pending: PendingApproval, caller: Principal | undefined) => boolean {
  const sessions = new Set(effect.sessionIds);
  return (pending, caller) => sessions.has(pending.sessionId) || (caller !== undefined && effect.affects(caller, pending.sessionId));
}

/**
 * The registry's settings, with entries kept at least as long as any token they revoke can still
 * be accepted: a token issued just before a revocation is accepted until its `exp` (at most the
 * issuer's `maxTokenLifetime` later) plus `clockTolerance`. An entry that expired sooner would let
 * that token work again.
 */
export function registrySettings(config: WardenConfig): RegistrySettings {
  const base = config.events ?? DEFAULT_REGISTRY_SETTINGS;
  const longestToken = Math.max(0, ...(config.identity?.issuers ?? []).map((i) => i.maxTokenLifetime + i.clockTolerance));
  return longestToken > base.retentionSeconds ? { ...base, retentionSeconds: longestToken } : base;
}

/**
 * The identity section with the claims subject matching reads (`events.subjects.emailClaim` and
 * `deviceClaim`) added to `extraClaims`. The principal carries only the claims listed there, so
 * without this an `email` subject matched only a `sub` that is an address and a `device` member
 * matched nobody: a security event naming alice@acme by e-mail missed her tokens (opaque `sub`).
 */
export function identityWithSubjectClaims(identity: IdentityConfig, config: WardenConfig): IdentityConfig {
  const { emailClaim, deviceClaim } = registrySettings(config).subjects;
  const missing = [emailClaim, deviceClaim].filter((c) => !identity.extraClaims.includes(c));
  return missing.length === 0 ? identity : { ...identity, extraClaims: [...identity.extraClaims, ...missing] };
}
