import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { configErrorOf } from '../helpers/config-error-of.js';
import { checkTrustedInputs, trustedInputs } from '../../src/runtime/trusted-inputs.js';
import { identityEnv } from '../helpers/identity-env.js';
import { WARDEN_MAIN } from '../helpers/paths.js';

/**
 * Credentials and state another local user could rewrite are refused at start-up: a swapped key
 * file mints any identity, a set approver token approves any call.
 */
async function configWith(extra: (dir: string) => Record<string, unknown>) {
  const env = await identityEnv('warden-trusted-');
  const token = join(env.dir, 'agent.jwt');
  writeFileSync(token, await env.mint({ user: 'alice', actor: 'agent-7' }), { mode: 0o600 });
  const file = join(env.dir, 'warden.yaml');
  writeFileSync(file, stringify(env.config({ identity: env.identity({ token: { file: token } }), ...extra(env.dir) })));
  return { env, file, token };
}


describe('trusted inputs at start-up', () => {
  it('identity forgery: a world-writable issuer key file stops warden run (exit 3, config file and key named)', async () => {
    const { env, file } = await configWith(() => ({}));
    chmodSync(env.jwksFile, 0o666);
    const run = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { encoding: 'utf8', input: '', timeout: 30_000 });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`${file}: identity.issuers[0].jwksFile: refusing to trust the issuer key file`);
    chmodSync(env.jwksFile, 0o644);
    expect(() => checkTrustedInputs(loadWardenConfig(file), file)).not.toThrow();
  });

  it('self-approval: an approver token file any local user can write is refused', async () => {
    const { env, file } = await configWith((dir) => {
      writeFileSync(join(dir, 'carol.token'), 'carol-secret-token-000000000000000000');
      return { approvals: { approvers: [{ id: 'carol', tokenFile: join(dir, 'carol.token') }] } };
    });
    chmodSync(join(env.dir, 'carol.token'), 0o646);
    expect(configErrorOf(() => checkTrustedInputs(loadWardenConfig(file), file))).toMatchObject({ keyPath: 'approvals.approvers[0].tokenFile', file });
  });

  it('identity swap: a world-writable stdio token file is refused', async () => {
    const { token, file } = await configWith(() => ({}));
    chmodSync(token, 0o666);
    expect(configErrorOf(() => checkTrustedInputs(loadWardenConfig(file), file)).keyPath).toBe('identity.token.file');
  });

  it('names every credential and state file of a config', async () => {
    const { file } = await configWith((dir) => ({
      approvals: { approvers: [{ id: 'carol', tokenFile: join(dir, 'carol.token') }] },
    }));
    const keys = trustedInputs(loadWardenConfig(file)).map((i) => i.keyPath);
    expect(keys).toEqual(['identity.issuers[0].jwksFile', 'identity.token.file', 'approvals.approvers[0].tokenFile', 'control.adminTokenFile']);
  });
});
