import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { configErrorOf } from '../helpers/config-error-of.js';
import { untrustedFileReason } from '../../src/core/trusted-file.js';
import { readPinFile } from '../../src/pins/pin-file.js';
import { loadPolicy, loadPolicyFileSync } from '../../src/policy/load-policy.js';
import { ACME_SERVER, TRANSPARENT_POLICY, WARDEN_MAIN } from '../helpers/paths.js';

/**
 * A local user who can rewrite warden's policy or pin file decides what warden allows: warden
 * refuses to trust such a file, at start-up, on reload and in the CLI that reads it.
 */
function dirWithPolicy(dirMode = 0o700): { dir: string; policy: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'warden-trust-')), 'state');
  mkdirSync(dir);
  chmodSync(dir, dirMode);
  const policy = join(dir, 'policy.yaml');
  copyFileSync(TRANSPARENT_POLICY, policy);
  chmodSync(policy, 0o644);
  return { dir, policy };
}


describe('trusted files: policy and pins another user could rewrite are refused', () => {
  it('policy takeover by any local user: a world-writable policy file is refused, naming the file', () => {
    const { policy } = dirWithPolicy();
    chmodSync(policy, 0o646);
    const err = configErrorOf(() => loadPolicyFileSync(policy));
    expect(err.file).toBe(policy);
    expect(err.message).toContain('writable by every local user');
    expect(err.message).toContain(`chmod o-w ${policy}`);
  });

  it('policy swap through the folder: a world-writable folder without the sticky bit is refused', () => {
    const { policy } = dirWithPolicy(0o777);
    expect(configErrorOf(() => loadPolicyFileSync(policy)).message).toContain('could replace the file');
  });

  it('a policy of your own in a sticky shared folder (like /tmp) is trusted', () => {
    const { policy } = dirWithPolicy(0o1777);
    expect(loadPolicyFileSync(policy).policy.rules.length).toBeGreaterThan(0);
  });

  it('group-writable files are trusted (private user groups make them common)', () => {
    const { dir, policy } = dirWithPolicy(0o770);
    chmodSync(policy, 0o664);
    expect(() => loadPolicyFileSync(policy)).not.toThrow();
    expect(untrustedFileReason(join(dir, 'not-yet.json'))).toBeUndefined();
  });

  it('pre-planted file in /tmp: a file another user created in a sticky shared folder is refused', () => {
    const stat = (path: string) => (path.endsWith('pins.json') ? { mode: 0o100644, uid: 4242 } : { mode: 0o41777, uid: 0 });
    expect(untrustedFileReason('/tmp/pins.json', stat, 1000)).toContain('belongs to another user (uid 4242)');
    // The same file owned by root or by warden's own user is fine.
    expect(untrustedFileReason('/tmp/pins.json', (p) => (p.endsWith('pins.json') ? { mode: 0o100644, uid: 1000 } : { mode: 0o41777, uid: 0 }), 1000)).toBeUndefined();
    expect(untrustedFileReason('/tmp/pins.json', (p) => (p.endsWith('pins.json') ? { mode: 0o100644, uid: 0 } : { mode: 0o41777, uid: 0 }), 1000)).toBeUndefined();
  });

  it('a policy made world-writable after start-up is refused on reload (the old policy stays)', async () => {
    const { policy } = dirWithPolicy();
    await expect(loadPolicy([policy])).resolves.toBeDefined();
    chmodSync(policy, 0o666);
    await expect(loadPolicy([policy])).rejects.toBeInstanceOf(ConfigError);
  });

  it('accepted-definition forgery: a world-writable pin file is refused', () => {
    const { dir } = dirWithPolicy();
    const pins = join(dir, 'pins.json');
    writeFileSync(pins, '{"version":1,"upstreams":{}}\n');
    chmodSync(pins, 0o666);
    expect(configErrorOf(() => readPinFile(pins)).message).toContain('refusing to trust the pin file');
    chmodSync(pins, 0o600);
    expect(readPinFile(pins).size).toBe(0);
  });

  it('warden run and warden policy check refuse a world-writable policy with a config error (exit 3)', () => {
    const { dir, policy } = dirWithPolicy();
    chmodSync(policy, 0o666);
    const config = join(dir, 'warden.yaml');
    writeFileSync(config, `dangerouslyAllowAnonymous: true\npolicy: { files: [${JSON.stringify(policy)}] }\nupstreams:\n  acme: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(ACME_SERVER)}] }\n`);
    const run = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', config], { encoding: 'utf8', input: '', timeout: 30_000 });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(policy);
    expect(run.stderr).toContain('writable by every local user');
    const check = spawnSync(process.execPath, [WARDEN_MAIN, 'policy', 'check', policy], { encoding: 'utf8', timeout: 30_000 });
    expect(check.status).not.toBe(0);
    expect(check.stdout + check.stderr).toContain('refusing to trust the policy file');
  });

  it('config takeover: warden run refuses a world-writable warden.yaml (exit 3)', () => {
    const { dir, policy } = dirWithPolicy();
    const config = join(dir, 'warden.yaml');
    writeFileSync(config, `dangerouslyAllowAnonymous: true\npolicy: { files: [${JSON.stringify(policy)}] }\nupstreams:\n  acme: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(ACME_SERVER)}] }\n`);
    chmodSync(config, 0o666);
    const run = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', config], { encoding: 'utf8', input: '', timeout: 30_000 });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('refusing to trust the config file');
  });
});
