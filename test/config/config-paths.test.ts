import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PATH_KEYS, resolveConfigPaths } from '../../src/config/config-paths.js';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { tempDir } from '../helpers/warden-process.js';

/** A config that sets every path-valued key (relative), parsed with its defaults. */
function everyPathConfig(): Record<string, unknown> {
  return {
    upstreams: { acme: { command: 'node', args: ['srv.js'], cwd: 'sub' }, deflt: { command: 'node', args: ['srv.js'] }, web: { url: 'http://127.0.0.1:9/mcp' } },
    listen: { stdio: true },
    logging: { file: 'logs/w.log' },
    identity: {
      resource: 'https://w/mcp',
      issuers: [
        { issuer: 'https://a', audience: 'w', jwksFile: 'keys/jwks.json' },
        { issuer: 'https://b', audience: 'w', publicKeys: [{ alg: 'ES256', pemFile: 'keys/b.pem' }] },
        { issuer: 'https://c', audience: 'w', algorithms: ['HS256'], dangerouslyAllowSharedSecret: { file: 'keys/secret' } },
      ],
      token: { file: 'agent.jwt' },
    },
    policy: { files: ['pol/a.yaml', '/abs/b.yaml'] },
    audit: { file: '.warden/a.jsonl', checkpoint: { file: '.warden/a.cp.json', signingKey: 'keys/audit.key' } },
    approvals: { approvers: [{ id: 'bob', tokenFile: 'keys/bob' }] },
    control: { adminTokenFile: '.warden/admin-token', socketPath: '.warden/control.sock' },
    events: {
      transmitter: { issuer: 'https://idp', audience: 'w', keys: { jwksFile: 'keys/set.json' } },
      authorization: { tokenFile: 'keys/push' },
    },
    pins: { file: '.warden/pins.json' },
  };
}

describe('relative paths in the config resolve against its folder', () => {
  it('makes every path-valued key absolute against the config folder, whatever the cwd', () => {
    const dir = tempDir('warden-paths-');
    const config = resolveConfigPaths(WardenConfigSchema.parse(everyPathConfig()), dir);
    const at = (p: string): string => join(dir, p);
    expect(config.upstreams.acme).toMatchObject({ cwd: at('sub'), args: ['srv.js'] });
    expect(config.upstreams.deflt).toMatchObject({ cwd: dir, args: ['srv.js'] });
    expect(config.upstreams.web).not.toHaveProperty('cwd');
    expect(config.logging.file).toBe(at('logs/w.log'));
    const [a, b, c] = config.identity!.issuers;
    expect(a!.jwksFile).toBe(at('keys/jwks.json'));
    expect(b!.publicKeys![0]!.pemFile).toBe(at('keys/b.pem'));
    expect(c!.dangerouslyAllowSharedSecret!.file).toBe(at('keys/secret'));
    expect(config.identity!.token).toEqual({ file: at('agent.jwt') });
    expect(config.policy.files).toEqual([at('pol/a.yaml'), '/abs/b.yaml']);
    expect(config.audit.file).toBe(at('.warden/a.jsonl'));
    expect(config.audit.checkpoint.file).toBe(at('.warden/a.cp.json'));
    expect(config.audit.checkpoint.signingKey).toBe(at('keys/audit.key'));
    expect(config.approvals.approvers[0]!.tokenFile).toBe(at('keys/bob'));
    expect(config.control.adminTokenFile).toBe(at('.warden/admin-token'));
    expect(config.control.socketPath).toBe(at('.warden/control.sock'));
    expect(config.events!.transmitter.keys).toEqual({ jwksFile: at('keys/set.json') });
    expect(config.events!.authorization).toEqual({ tokenFile: at('keys/push') });
    expect(config.pins.file).toBe(at('.warden/pins.json'));
    expect(config.state.revocationsFile).toBe(at('.warden/revocations.json'));
    // Every key the README lists is covered by this test.
    expect(PATH_KEYS).toHaveLength(18);
  });

  it('resolves defaults too (audit file, admin token, pins) and keeps env-only sources untouched', () => {
    const dir = tempDir('warden-paths-');
    const config = resolveConfigPaths(WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams: { a: { command: 'x' } }, control: { adminTokenEnv: 'T' } }), dir);
    expect(config.audit.file).toBe(join(dir, 'warden-audit.jsonl'));
    expect(config.control.adminTokenFile).toBe(join(dir, '.warden/admin-token'));
    expect(config.pins.file).toBe(join(dir, '.warden/pins.json'));
    expect(config.state.revocationsFile).toBe(join(dir, '.warden/revocations.json'));
    expect(config.logging.file).toBeUndefined();
  });

  it('loadWardenConfig applies the rule (a config started from another cwd means the same)', () => {
    const dir = tempDir('warden-paths-');
    mkdirSync(join(dir, 'cfg'));
    const file = join(dir, 'cfg', 'warden.yaml');
    writeFileSync(file, stringify({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node', args: ['a.js'], cwd: 'sub' } }, logging: { file: 'logs/w.log' } }));
    const config = loadWardenConfig(file, {});
    expect(config.upstreams.acme).toMatchObject({ cwd: join(dir, 'cfg', 'sub') });
    expect(config.logging.file).toBe(join(dir, 'cfg', 'logs/w.log'));
  });
});
