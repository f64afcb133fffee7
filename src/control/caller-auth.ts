import { createHash, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readSecretFile } from './admin-token.js';

export interface ControlCaller {
  readonly kind: 'admin' | 'approver';
  readonly id: string;
}

export interface ApproverCredential {
  readonly id: string;
  readonly token: string;
}

/** Verifies an approver JWT (or other bearer) and returns the approver id, or undefined. */
export type ApproverVerifier = (token: string) => Promise<string | undefined>;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time string equality (hashing first makes lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Resolves `approvals.approvers` entries to tokens at start-up; a missing one is a config error. */
export function resolveApproverCredentials(
  approvers: readonly { id: string; tokenFile?: string | undefined; tokenEnv?: string | undefined }[],
  options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {},
): ApproverCredential[] {
  return approvers.map((a, i) => {
    const keyPath = `approvals.approvers[${i}]`;
    if (a.tokenFile !== undefined) {
      return { id: a.id, token: readSecretFile(resolve(options.baseDir ?? process.cwd(), a.tokenFile), `${keyPath}.tokenFile`) };
    }
    const value = a.tokenEnv !== undefined ? (options.env ?? process.env)[a.tokenEnv]?.trim() : undefined;
    if (!value || value.length < 16) {
      throw new ConfigError(`approver token variable ${a.tokenEnv ?? '(none)'} is unset or too short`, { keyPath: `${keyPath}.tokenEnv` });
    }
    return { id: a.id, token: value };
  });
}

/**
 * A credential identifies exactly one caller. Shared by two approvers, whoever presents it is taken
 * for the first: bob answers as alice (so he can approve his own calls, and the audit names the
 * wrong human). Equal to the admin credential, an approver is taken for the admin (no self-approval
 * check, admin routes open). Both are refused at start-up, naming the approver entry.
 */
function refuseSharedCredentials(adminToken: string, approvers: readonly ApproverCredential[]): void {
  approvers.forEach((a, i) => {
    const keyPath = `approvals.approvers[${i}]`;
    if (safeEqual(a.token, adminToken)) {
      throw new ConfigError(`approver ${a.id} uses the admin credential; give each approver a token of their own`, { keyPath });
    }
    const twin = approvers.slice(0, i).find((b) => safeEqual(a.token, b.token));
    if (twin !== undefined) {
      throw new ConfigError(`approvers ${twin.id} and ${a.id} share one token; give each approver a token of their own`, { keyPath });
    }
  });
}

/** Builds the function that maps an `Authorization` header to a caller, or undefined (401). */
export function createCallerAuth(options: {
  readonly adminToken: string;
  readonly approvers?: readonly ApproverCredential[];
  readonly verifyApprover?: ApproverVerifier;
}): (authorization: string | undefined) => Promise<ControlCaller | undefined> {
  const approvers = options.approvers ?? [];
  refuseSharedCredentials(options.adminToken, approvers);
  return async (authorization) => {
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = match[1] as string;
    if (safeEqual(presented, options.adminToken)) return { kind: 'admin', id: 'admin' };
    let found: ApproverCredential | undefined;
    // Compare against every approver so timing does not reveal which one matched.
    for (const a of approvers) if (safeEqual(presented, a.token) && !found) found = a;
    if (found) return { kind: 'approver', id: found.id };
    if (options.verifyApprover) {
      try {
        const id = await options.verifyApprover(presented);
        if (id) return { kind: 'approver', id };
      } catch {
        return undefined; // a verifier fault is an authentication failure, never a pass
      }
    }
    return undefined;
  };
}
