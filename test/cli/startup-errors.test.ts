import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { identityEnv } from '../helpers/identity-env.js';
import { runUntilExit } from '../helpers/ops-warden.js';

describe('start-up errors say what to do and where', () => {
  it('an expired stdio token at start-up asks for a fresh token and a new start, naming the config file', async () => {
    const e = await identityEnv('warden-ops-expired-');
    const token = join(e.dir, 'agent.jwt');
    writeFileSync(token, await e.mint({ user: 'alice', nowMs: Date.now() - 3_600_000, ttlSeconds: 60 }));
    const configFile = join(e.dir, 'warden.yaml');
    writeFileSync(configFile, stringify(e.config({ identity: e.identity({ token: { file: token } }) })));
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('token_expired');
    // warden is not running, so "no restart needed" was wrong here.
    expect(r.stderr).not.toContain('no restart needed');
    expect(r.stderr).toContain('start warden again');
    expect(r.stderr).toContain(`${configFile}: identity.token`);
  });

  it('a missing JWKS file names the config file and the key', async () => {
    const e = await identityEnv('warden-ops-jwks-');
    const configFile = join(e.dir, 'warden.yaml');
    writeFileSync(configFile, stringify(e.config({ identity: { resource: 'https://w/mcp', issuers: [{ issuer: 'https://i', audience: 'w', jwksFile: 'missing.json' }], token: { env: 'NOPE' } } })));
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${configFile}: identity.issuers[0]`);
    expect(r.stderr).toContain(join(e.dir, 'missing.json'));
  });

  it('an audit.file that is no audit log (another program\'s log) names the config file and audit.file', async () => {
    const e = await identityEnv('warden-ops-notaudit-');
    const notAudit = join(e.dir, 'app.log');
    writeFileSync(notAudit, 'started\nlistening on 8080\n');
    const configFile = join(e.dir, 'warden.yaml');
    const config = e.config({ dangerouslyAllowAnonymous: true, audit: { file: notAudit } });
    delete config.identity;
    writeFileSync(configFile, stringify(config));
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${configFile}: audit.file: ${notAudit}: last complete line is not a valid audit record`);
  });

  it('a missing policy file names its policy.files[i] key', async () => {
    const e = await identityEnv('warden-ops-pol-');
    const configFile = join(e.dir, 'warden.yaml');
    const config = e.config({ dangerouslyAllowAnonymous: true, policy: { files: ['nope.yaml'] } });
    delete config.identity;
    writeFileSync(configFile, stringify(config));
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${configFile}: policy.files[0]`);
  });
});
