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

/** Builds the function that maps an `Authorization` header to a caller, or undefined (401). */
export function createCallerAuth(options: {
  readonly adminToken: string;
  readonly approvers?: readonly ApproverCredential[];
  readonly verifyApprover?: ApproverVerifier;
}): (authorization: string | undefined) => Promise<ControlCaller | undefined> {
  const approvers = options.approvers ?? [];
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
