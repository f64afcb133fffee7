import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import { warnIfAgentsGiveUpFirst } from '../../src/approval/agent-side.js';
import type { Logger } from '../../src/logging/logger.js';
import { createCallerAuth, resolveApproverCredentials } from '../../src/control/caller-auth.js';
import { ConfigError } from '../../src/core/errors.js';
import { configErrorFromZod } from '../../src/config/zod-error.js';

describe('approvals config', () => {
  it('has safe defaults and rejects typos with the key path', () => {
    expect(ApprovalsConfigSchema.parse({})).toMatchObject({ maxPending: 100, maxPendingPerPrincipal: 10, maxPendingPerUser: 30, approvers: [] });
    const bad = ApprovalsConfigSchema.safeParse({ timeout: 5 });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(configErrorFromZod(bad.error, 'warden.yaml').message).toContain("unknown key 'timeout'");
  });

  it('times out an approval before a stock SDK agent gives up on the call (its default request timeout is 60 s)', () => {
    // Otherwise the agent errors with -32001 while the approval is still pending, and never
    // learns the outcome of an approval that takes longer than 60 s.
    expect(ApprovalsConfigSchema.parse({}).timeoutMs).toBeLessThan(60_000);
    expect(ApprovalsConfigSchema.parse({}).timeoutMs).toBeGreaterThanOrEqual(30_000);
  });

  it('warns at start-up when a stock SDK agent would give up before the approval times out', () => {
    const warned: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => void warned.push(args) } as unknown as Logger;
    warnIfAgentsGiveUpFirst(ApprovalsConfigSchema.parse({}).timeoutMs, logger);
    expect(warned).toEqual([]);
    warnIfAgentsGiveUpFirst(120_000, logger);
    expect(JSON.stringify(warned)).toContain('resetTimeoutOnProgress');
  });

  it('refuses an approver id the audit uses for the admin credential or for warden itself (a human passing as them)', () => {
    // `by: admin` is the admin credential and `by: warden` warden's own refusal (queue full): an
    // approver named so is indistinguishable from them in `warden audit show`.
    for (const id of ['admin', 'warden']) {
      const parsed = ApprovalsConfigSchema.safeParse({ approvers: [{ id, tokenEnv: 'B' }] });
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(configErrorFromZod(parsed.error, 'warden.yaml').message).toContain('approvers[0].id');
    }
    expect(ApprovalsConfigSchema.safeParse({ approvers: [{ id: 'admin-carol', tokenEnv: 'B' }] }).success).toBe(true);
  });

  it('requires exactly one of tokenFile / tokenEnv per approver', () => {
    expect(ApprovalsConfigSchema.safeParse({ approvers: [{ id: 'c' }] }).success).toBe(false);
    expect(ApprovalsConfigSchema.safeParse({ approvers: [{ id: 'c', tokenFile: 'a', tokenEnv: 'B' }] }).success).toBe(false);
    expect(ApprovalsConfigSchema.safeParse({ approvers: [{ id: 'c', tokenEnv: 'B' }] }).success).toBe(true);
  });
});

describe('approver credentials', () => {
  it('loads tokens from files (0600 only) and env, naming the key at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-appr-'));
    writeFileSync(join(dir, 'carol'), 'carol-token-0123456789\n', { mode: 0o600 });
    const creds = resolveApproverCredentials(
      [{ id: 'carol', tokenFile: 'carol' }, { id: 'dave', tokenEnv: 'DAVE_TOKEN' }],
      { baseDir: dir, env: { DAVE_TOKEN: 'dave-token-0123456789' } },
    );
    expect(creds).toEqual([{ id: 'carol', token: 'carol-token-0123456789' }, { id: 'dave', token: 'dave-token-0123456789' }]);
    try {
      resolveApproverCredentials([{ id: 'x', tokenFile: 'carol' }, { id: 'dave', tokenEnv: 'MISSING' }], { baseDir: dir, env: {} });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).keyPath).toBe('approvals.approvers[1].tokenEnv');
    }
    chmodSync(join(dir, 'carol'), 0o640);
    expect(() => resolveApproverCredentials([{ id: 'carol', tokenFile: 'carol' }], { baseDir: dir })).toThrow(ConfigError);
  });

  it('maps bearer tokens to admin, named approvers, or a verified JWT approver; a verifier fault fails', async () => {
    const auth = createCallerAuth({
      adminToken: 'admin-token-0123456789',
      approvers: [{ id: 'carol', token: 'carol-token-0123456789' }],
      verifyApprover: async (t) => {
        if (t === 'boom') throw new Error('jwks down');
        return t === 'jwt-for-erin' ? 'erin' : undefined;
      },
    });
    expect(await auth('Bearer admin-token-0123456789')).toEqual({ kind: 'admin', id: 'admin' });
    expect(await auth('Bearer carol-token-0123456789')).toEqual({ kind: 'approver', id: 'carol' });
    expect(await auth('Bearer jwt-for-erin')).toEqual({ kind: 'approver', id: 'erin' });
    expect(await auth('Bearer boom')).toBeUndefined();
    expect(await auth('Bearer nope')).toBeUndefined();
    expect(await auth('bearer admin-token-0123456789 extra')).toBeUndefined();
    expect(await auth(undefined)).toBeUndefined();
  });
});
