import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../src/identity/dev-tokens.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { auditOfType, eventually, identityEnv, upstreamCalls, type IdentityEnv, replaceTokenFile } from '../../helpers/identity-env.js';
import { startStdioWarden, writeConfig } from '../../helpers/identity-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { WARDEN_MAIN } from '../../helpers/paths.js';

/**
 * Issue 3 over stdio, end to end: the agent launches `warden run` as its MCP server; the process
 * token comes from `identity.token.file`, is re-read when it changes and re-checked on every call.
 */
type CallResult = { isError?: boolean; content?: { text: string }[]; _meta?: Record<string, { reason?: string }> };
const decisionOf = (r: unknown) => (r as CallResult)._meta?.['dev.mcp-warden/decision'];

let env: IdentityEnv;
let tokenFile: string;
let agent: ConnectedClient;

const writeToken = (token: string): void => replaceTokenFile(tokenFile, token);

/** Receipts of calls by user, in audit order. */
const receivedUsers = () => auditOfType(env.auditFile, 'call.received').map((r) => (r.principal as { user: string }).user);

beforeAll(async () => {
  env = await identityEnv();
  tokenFile = join(env.dir, 'agent.jwt');
  writeToken(await env.mint({ user: 'alice', actor: 'agent-7', chain: ['planner', 'orchestrator'], scope: 'tools:call' }));
  const identity = env.identity({ token: { file: tokenFile } });
  // No clock tolerance, so the short-lived token below expires when its exp says.
  (identity.issuers as Record<string, unknown>[])[0]!.clockTolerance = 0;
  agent = await startStdioWarden(env.dir, env.config({ identity, policy: { files: [TRANSPARENT_POLICY], watch: false } }));
});
afterAll(async () => {
  await agent?.close();
});

describe('stdio identity through a running warden (issue 3)', () => {
  it('runs a call as the token file\'s principal, with user, actor and the whole actor chain audited', async () => {
    const result = await agent.client.callTool({ name: 'echo', arguments: { message: 'as alice' } });
    expect(result.content).toEqual([{ type: 'text', text: 'as alice' }]);
    const received = await eventually(() => auditOfType(env.auditFile, 'call.received')[0]);
    expect(received.principal).toMatchObject({ user: 'alice', actor: 'agent-7', actorChain: ['agent-7', 'planner', 'orchestrator'], scopes: ['tools:call'], anonymous: false });
  });

  it('uses a rewritten token file on the next call, without a restart', async () => {
    writeToken(await env.mint({ user: 'bob', actor: 'agent-9', scope: 'tools:call' }));
    const result = await agent.client.callTool({ name: 'echo', arguments: { message: 'as bob' } });
    expect(result.isError).toBeFalsy();
    expect(receivedUsers().at(-1)).toBe('bob');
  });

  it('blocks calls once the token has expired (token_expired), and nothing reaches the upstream', async () => {
    const token = await env.mint({ user: 'bob', actor: 'agent-9', scope: 'tools:call', ttlSeconds: 2 });
    writeToken(token);
    const ok = await agent.client.callTool({ name: 'echo', arguments: { message: 'still valid' } });
    expect(ok.isError).toBeFalsy();
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 200));
    const before = upstreamCalls(env.callLog).length;
    const blocked = await agent.client.callTool({ name: 'echo', arguments: { message: 'too late' } });
    expect(blocked.isError).toBe(true);
    expect(decisionOf(blocked)?.reason).toBe('token_expired');
    // The refusal says where a fresh token goes, so the agent's operator knows what to do.
    const text = (blocked as CallResult).content?.[0]?.text ?? '';
    expect(text).toContain('Not authenticated: token_expired');
    expect(text).toContain(`${tokenFile} has expired; write a fresh token there (no restart needed)`);
    expect(upstreamCalls(env.callLog).length).toBe(before);
    expect(auditOfType(env.auditFile, 'identity.failed').some((r) => r.reason === 'token_expired' && r.transport === 'stdio')).toBe(true);
    // A fresh token from the refresher works again.
    writeToken(await env.mint({ user: 'bob', actor: 'agent-9', scope: 'tools:call' }));
    const again = await agent.client.callTool({ name: 'echo', arguments: { message: 'refreshed' } });
    expect(again.isError).toBeFalsy();
    expect(upstreamCalls(env.callLog).length).toBe(before + 1);
  });
});

describe('stdio token file tampering (issue 3)', () => {
  it('refuses a forged token written to the file and a missing file, never falling back to the older token', async () => {
    const before = upstreamCalls(env.callLog).length;
    const forger = await generateSigningKey({ kid: 'e2e-1' });
    writeToken(await env.mint({ user: 'mallory', actor: 'agent-9', key: forger }));
    const forged = await agent.client.callTool({ name: 'echo', arguments: { message: 'forged' } });
    expect(forged.isError).toBe(true);
    expect(decisionOf(forged)?.reason).toBe('signature_invalid');
    unlinkSync(tokenFile);
    const missing = await agent.client.callTool({ name: 'echo', arguments: { message: 'no token' } });
    expect(missing.isError).toBe(true);
    expect(decisionOf(missing)?.reason).toBe('token_unavailable');
    expect(upstreamCalls(env.callLog).length).toBe(before);
    writeToken(await env.mint({ user: 'bob', actor: 'agent-9', scope: 'tools:call' }));
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'back' } })).isError).toBeFalsy();
  });
});

describe('stdio start-up and anonymous mode', () => {
  it('refuses to start with an invalid stdio token: exit 3 and a message naming identity.token', async () => {
    const e = await identityEnv();
    const file = join(e.dir, 'agent.jwt');
    writeFileSync(file, await e.mint({ user: 'alice', nowMs: Date.now() - 3_600_000, ttlSeconds: 60 }));
    const configFile = writeConfig(e.dir, e.config({ identity: e.identity({ token: { file } }) }));
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(3);
    expect(stderr).toContain('identity.token');
    expect(stderr).toContain('token_expired');
    expect(upstreamCalls(e.callLog)).toEqual([]);
  });

  it('marks every call in anonymous mode as anonymous in the audit', async () => {
    const e = await identityEnv();
    const config = e.config({ dangerouslyAllowAnonymous: true, policy: { files: [TRANSPARENT_POLICY], watch: false } });
    delete config.identity;
    const anon = await startStdioWarden(e.dir, config);
    try {
      const result = await anon.client.callTool({ name: 'echo', arguments: { message: 'who am i' } });
      expect(result.isError).toBeFalsy();
    } finally {
      await anon.close();
    }
    const received = auditOfType(e.auditFile, 'call.received');
    expect(received).toHaveLength(1);
    expect(received[0]!.principal).toMatchObject({ user: 'anonymous', anonymous: true });
    expect(auditOfType(e.auditFile, 'call.decision')[0]!.principal).toMatchObject({ anonymous: true });
  });
});
