import type { Sensitivity } from '../core/decision.js';
import type { SubjectMatch } from './subject.js';

/**
 * One standing effect of an event or an operator command on a subject. Stored in the StateStore
 * under `events:entry:<id>` so replicas (and a restart with a shared store) see the same set.
 */
export type RegistryEntry =
  | {
      readonly kind: 'revoke';
      readonly id: string;
      readonly match: SubjectMatch;
      /** Tokens issued at or before this time (ms) are revoked; sessions matched by id are dead. */
      readonly at: number;
      readonly eventId: string;
      readonly reason: string;
      readonly by: string;
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'step_up';
      readonly id: string;
      readonly match: SubjectMatch;
      readonly at: number;
      readonly eventId: string;
      readonly reason: string;
      readonly minSensitivity: Sensitivity;
      readonly action: 'approve' | 'block';
      readonly expiresAt: number;
    }
  | {
      readonly kind: 'claims';
      readonly id: string;
      readonly match: SubjectMatch;
      readonly at: number;
      readonly eventId: string;
      readonly reason: string;
      readonly claims: Readonly<Record<string, unknown>>;
      readonly expiresAt: number;
    };

/** Result of the per-call check. */
export type EvaluateResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'revoked'; readonly eventId: string; readonly reason: string }
  | {
      readonly kind: 'step_up';
      readonly minSensitivity: Sensitivity;
      readonly action: 'approve' | 'block';
      readonly eventId: string;
      readonly reason: string;
    };

/** What the integrator's hooks receive when a subject is revoked or its claims change. */
export interface SubjectEffect {
  readonly match: SubjectMatch;
  readonly eventId: string;
  readonly reason: string;
  /** Cut-off (ms): tokens issued at or before it are affected. */
  readonly at: number;
  /** Warden session ids currently open for this subject (from the SessionRegistry, when given). */
  readonly sessionIds: readonly string[];
  /** True when a principal on a warden session is affected (for approvals.withdrawWhere, identity.invalidate). */
  readonly affects: (principal: import('../core/principal.js').Principal, sessionId: string | undefined) => boolean;
  /** For a step-up: from which sensitivity on it applies, and what it asks for. */
  readonly stepUp?: { readonly minSensitivity: Sensitivity; readonly action: 'approve' | 'block' };
}
