import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityEnv, upstreamCalls } from '../../helpers/identity-env.js';
import { runWardenCli, startStdioWarden, writeConfig } from '../../helpers/identity-warden.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';

/**
 * A stdio warden starts again with every agent launch, so a revocation that lived only in memory
 * ended with the warden that made it, and the revoked token worked again. Revocations are kept in
 * `state.revocationsFile` (default `.warden/revocations.json`, beside the config).
 */

describe('revocations outlive the warden that made them', () => {
  it('a token revoked with warden revoke does not work again after warden restarts', async () => {
    const env = await identityEnv('warden-e2e-revfile-');
    const tokenFile = join(env.dir, 'agent.jwt');
    writeFileSync(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
    const config = env.config({ identity: env.identity({ token: { file: tokenFile } }), policy: { files: [TRANSPARENT_POLICY], watch: false } });
    const echo = (agent: Awaited<ReturnType<typeof startStdioWarden>>) => agent.client.callTool({ name: 'echo', arguments: { message: 'hi' } });

    const first = await startStdioWarden(env.dir, config);
    try {
      expect((await echo(first)).isError).toBeFalsy();
      const out = await runWardenCli(['revoke', '--user', 'alice', '--token-file', env.adminTokenFile, '--json']);
      expect(out.status).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ saved: true });
    } finally {
      await first.close();
    }
    const file = join(env.dir, '.warden', 'revocations.json');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(file, 'utf8')).toContain('"alice"');

    const callsBefore = upstreamCalls(env.callLog).length;
    // The restarted warden knows the revocation before anything else: the revoked token cannot
    // even open a session (initialize is refused with token_revoked), let alone call a tool.
    await expect(startStdioWarden(env.dir, config)).rejects.toThrow(/token_revoked/);
    expect(upstreamCalls(env.callLog).length).toBe(callsBefore);
  });

  it('warden refuses to start on a damaged revocations file instead of forgetting it', async () => {
    const env = await identityEnv('warden-e2e-revfile-');
    const tokenFile = join(env.dir, 'agent.jwt');
    writeFileSync(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7' }));
    const configFile = writeConfig(env.dir, env.config({ identity: env.identity({ token: { file: tokenFile } }), state: { revocationsFile: 'revoked.json' } }));
    writeFileSync(join(env.dir, 'revoked.json'), '{"v":1,"entries":[{"kind":"revoke"');
    const out = await runWardenCli(['run', '--config', configFile]);
    expect(out.status).toBe(4);
    expect(out.stderr).toContain(join(env.dir, 'revoked.json'));
  });
});
