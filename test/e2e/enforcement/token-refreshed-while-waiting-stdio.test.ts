import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../../src/identity/dev-tokens.js';
import { matchShape } from '../../helpers/audit-field-spec.js';
import { expectRefusal } from '../../helpers/enforcement-assert.js';
import { createTestIdp, TEST_ISSUER, TEST_RESOURCE, type TestIdp } from '../../helpers/enforcement-identity.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { replaceTokenFile } from '../../helpers/identity-env.js';
import { until } from '../../helpers/progress.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * Over stdio the agent sends no token with a call: warden reads its process token from a file
 * that a refresher rewrites before each token expires. A call held for a human longer than one
 * token's lifetime is still the same caller's call, on the token in force now; refused, every
 * approval slower than the token lifetime (minutes, for workload identities) would be wasted.
 * A token file that now holds another caller's token, or an expired one, still refuses it.
 */
let w: EnforcementWarden;
let idp: TestIdp;
let tokenFile: string;

const mint = (subject: string, ttlSeconds: number) => mintToken({ key: idp.key, issuer: TEST_ISSUER, audience: TEST_RESOURCE, subject, actor: 'agent-7', ttlSeconds });
const expOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
const writesTo = (path: string) => w.upstreamCalls().filter((c) => c.tool === 'write_file' && c.arguments.path === path);

beforeAll(async () => {
  const dir = tempDir('warden-e2e-enf-');
  idp = await createTestIdp(dir);
  tokenFile = join(dir, 'agent.jwt');
  replaceTokenFile(tokenFile, await mint('alice', 600));
  // No clock tolerance: a token is invalid from its `exp` on, so the test needs no 30 s wait.
  const section = idp.section({ token: { file: tokenFile } });
  const issuers = (section.issuers as Record<string, unknown>[]).map((i) => ({ ...i, clockTolerance: 0 }));
  w = await startStdioWarden({ dir, sections: { identity: { ...section, issuers }, approvals: { timeoutMs: 30_000 } } });
});
afterAll(async () => w?.close());

async function approvedAfterExpiry(path: string, refreshed: string): Promise<{ result: unknown; callId: string }> {
  const token = await mint('alice', 3);
  replaceTokenFile(tokenFile, token);
  const call = w.client.callTool({ name: 'write_file', arguments: { path, content: 'waited' } });
  const pending = await w.control.waitForPending((p) => (p.arguments as { path?: string }).path === path, call);
  await until(() => Date.now() >= expOf(token) * 1000 + 200, 10_000);
  replaceTokenFile(tokenFile, refreshed);
  expect((await w.control.allow(pending.id)).status).toBe(200);
  return { result: await call, callId: pending.callId };
}

describe('a stdio call whose process token is refreshed while it waits for a human', () => {
  it('is forwarded on the approver\'s allow when the token file holds a fresh token of the same caller (refreshed stdio token)', async () => {
    const { result } = await approvedAfterExpiry('/e2e/stdio-refreshed.txt', await mint('alice', 600));
    expect((result as { isError?: boolean }).isError ?? false).toBe(false);
    expect(writesTo('/e2e/stdio-refreshed.txt')).toHaveLength(1);
  });

  it('is refused (token_expired) when the token file now holds another caller\'s token (token swapped while waiting)', async () => {
    const { result, callId } = await approvedAfterExpiry('/e2e/stdio-swapped.txt', await mint('mallory', 600));
    expect(expectRefusal(result, 'token_expired')).toMatchObject({ callId });
    expect(writesTo('/e2e/stdio-swapped.txt')).toEqual([]);
    const records = w.audit().filter((r) => r.callId === callId);
    expect(records.find((r) => r.type === 'call.identity')).toMatchObject({ ok: false, reason: 'token_expired' });
    const refused = records.find((r) => r.type === 'call.decision' && r.reason === 'token_expired');
    expect(refused).toMatchObject({ enforced: 'block', tool: 'write_file', principal: expect.objectContaining({ user: 'alice' }) });
    expect(matchShape(refused!)).toEqual({ ok: true, shape: 'token-expired' });
    expect(records.some((r) => r.type === 'call.forwarded')).toBe(false);
    // Back to alice for the next test.
    replaceTokenFile(tokenFile, await mint('alice', 600));
  });
});
