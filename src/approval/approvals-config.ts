import { z } from 'zod';

/** Ids the audit already uses for callers that are not a named approver. */
const RESERVED_IDS: readonly string[] = ['admin', 'warden'];

/** A named approver credential. Exactly one of `tokenFile` / `tokenEnv`. */
export const ApproverSchema = z
  .strictObject({
    /**
     * Recorded in the audit as who approved; compared with the call's user and agents (no
     * self-approval). `admin` and `warden` are what the audit records for the admin credential and
     * for warden's own refusals: an approver named so could not be told apart from them.
     */
    id: z
      .string()
      .min(1)
      .max(200)
      .refine((id) => !RESERVED_IDS.includes(id), { message: 'admin and warden are reserved (the audit uses them for the admin credential and for warden itself)' }),
    tokenFile: z.string().min(1).optional(),
    tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  })
  .refine((a) => (a.tokenFile === undefined) !== (a.tokenEnv === undefined), {
    message: 'set exactly one of tokenFile or tokenEnv',
  });
export type Approver = z.infer<typeof ApproverSchema>;

/** `approvals:` section. */
export const ApprovalsConfigSchema = z.strictObject({
  /**
   * Longest a call waits for a human; then it is denied (never allowed). The default stays under
   * the MCP SDK's default request timeout (60 s, not reset by progress unless the client opts in),
   * so a stock agent receives the approval's outcome (allowed, denied or approval_timeout) instead
   * of giving up with -32001 while the request is still pending. Longer waits need agents that
   * pass `resetTimeoutOnProgress` (see the README).
   */
  timeoutMs: z.number().int().min(1_000).max(3_600_000).default(50_000),
  /** How often a waiting call sends `notifications/progress` (when the agent gave a token). */
  progressIntervalMs: z.number().int().min(500).max(60_000).default(5_000),
  /** Pending requests at once; beyond that new ones are denied (`approval_unavailable`). */
  maxPending: z.number().int().min(1).max(100_000).default(100),
  /**
   * Pending requests at once per principal (issuer + user + acting agent). Without it one looping
   * agent fills `maxPending` alone: every other principal's calls are then denied unasked, and the
   * approvers face a wall of one agent's requests (approval fatigue).
   */
  maxPendingPerPrincipal: z.number().int().min(1).max(100_000).default(10),
  /**
   * Pending requests at once per user (issuer + user), over all the agents acting for them. The
   * per-principal share alone let one user with many agents (or one agent minting actor names
   * under a user's delegation) fill `maxPending`, and every other user's calls were denied unasked.
   */
  maxPendingPerUser: z.number().int().min(1).max(100_000).default(30),
  /** Upper bound on "allow and remember"; longer requests are cut to this. */
  maxGrantMs: z.number().int().min(60_000).max(30 * 86_400_000).default(8 * 3_600_000),
  /** Live grants at once; beyond that remembering is refused (the call is still allowed once). */
  maxGrants: z.number().int().min(1).max(100_000).default(1_000),
  /** Named approver tokens accepted on the control API besides the admin credential. */
  approvers: z.array(ApproverSchema).default([]),
});
export type ApprovalsConfig = z.infer<typeof ApprovalsConfigSchema>;
