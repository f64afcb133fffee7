import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { auditOfType, identityEnv, type IdentityEnv, replaceTokenFile } from '../../helpers/identity-env.js';
import { runWardenCli, startStdioWarden } from '../../helpers/identity-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';

/**
 * Over HTTP every request carries a token and is authenticated. Over stdio the process token
 * was re-checked on tool calls only, so once it expired or was revoked the agent could still
 * list tools, read resources and get prompts. Every stdio request is now checked the same way.
 */
let env: IdentityEnv;
let tokenFile: string;
let agent: ConnectedClient;

const writeToken = (token: string): void => replaceTokenFile(tokenFile, token);

/** The JSON-RPC error of a request the SDK client sent, or undefined when it succeeded. */
async function refusal(work: Promise<unknown>): Promise<{ code: number; message: string; data?: { reason?: string } } | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    return err as { code: number; message: string; data?: { reason?: string } };
  }
}

beforeAll(async () => {
  env = await identityEnv();
  tokenFile = join(env.dir, 'agent.jwt');
  writeToken(await env.mint({ user: 'alice', actor: 'agent-7', scope: 'tools:call' }));
  agent = await startStdioWarden(env.dir, env.config({ identity: env.identity({ token: { file: tokenFile } }), policy: { files: [TRANSPARENT_POLICY], watch: false } }));
});
afterAll(async () => {
  await agent?.close();
});

describe('stdio: every request is authenticated, not only tool calls', () => {
  it('serves lists, resources and prompts while the token is good', async () => {
    expect((await agent.client.listTools()).tools.length).toBeGreaterThan(0);
    expect((await agent.client.readResource({ uri: 'acme://files/docs/readme.txt' })).contents.length).toBe(1);
    expect((await agent.client.getPrompt({ name: 'summarize_customer', arguments: { name: 'Ada' } })).messages.length).toBeGreaterThan(0);
  });

  it('refuses resource reads, prompts and listings with a token no longer accepted (a stolen or revoked token reads nothing)', async () => {
    writeToken('garbage');
    for (const work of [
      agent.client.readResource({ uri: 'acme://files/docs/readme.txt' }),
      agent.client.getPrompt({ name: 'summarize_customer', arguments: { name: 'Ada' } }),
      agent.client.listTools(),
      agent.client.listResources(),
      agent.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' }),
    ]) {
      const error = await refusal(work);
      expect(error?.code).toBe(-32600);
      expect(error?.data?.reason).toBe('token_segments');
    }
    expect(auditOfType(env.auditFile, 'identity.failed').filter((r) => r.transport === 'stdio').length).toBeGreaterThanOrEqual(5);
    // Liveness is not an action: ping still answers.
    await expect(agent.client.ping()).resolves.toBeDefined();
  });

  it('serves them again once a good token is back (the first check after the change has to wait)', async () => {
    writeToken(await env.mint({ user: 'alice', actor: 'agent-7', scope: 'tools:call' }));
    const [read, prompts] = await Promise.all([
      agent.client.readResource({ uri: 'acme://files/docs/readme.txt' }),
      agent.client.listPrompts(),
    ]);
    expect(read.contents.length).toBe(1);
    expect(prompts.prompts.length).toBeGreaterThan(0);
  });
});

describe('stdio: a revoked token reads nothing more', () => {
  let revokedEnv: IdentityEnv;
  let revokedAgent: ConnectedClient;
  afterAll(async () => {
    await revokedAgent?.close();
  });

  it('refuses resource reads, prompts and listings after warden revoke --user (token_revoked), audited', async () => {
    revokedEnv = await identityEnv('warden-e2e-stdio-rev-');
    const file = join(revokedEnv.dir, 'agent.jwt');
    writeFileSync(file, await revokedEnv.mint({ user: 'alice', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
    revokedAgent = await startStdioWarden(revokedEnv.dir, revokedEnv.config({ identity: revokedEnv.identity({ token: { file } }), policy: { files: [TRANSPARENT_POLICY], watch: false } }));
    expect((await revokedAgent.client.readResource({ uri: 'acme://files/docs/readme.txt' })).contents.length).toBe(1);
    const out = await runWardenCli(['revoke', '--user', 'alice', '--token-file', revokedEnv.adminTokenFile, '--json']);
    expect(out.status).toBe(0);
    for (const work of [
      revokedAgent.client.readResource({ uri: 'acme://files/docs/readme.txt' }),
      revokedAgent.client.getPrompt({ name: 'summarize_customer', arguments: { name: 'Ada' } }),
      revokedAgent.client.listTools(),
    ]) {
      const error = await refusal(work);
      expect(error?.code).toBe(-32600);
      expect(error?.data?.reason).toBe('token_revoked');
    }
    expect(auditOfType(revokedEnv.auditFile, 'identity.failed').filter((r) => r.reason === 'token_revoked' && r.transport === 'stdio')).toHaveLength(3);
  });
});
