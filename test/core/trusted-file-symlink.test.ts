import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/core/errors.js';
import { untrustedFileReason } from '../../src/core/trusted-file.js';
import { TRANSPARENT_POLICY } from '../helpers/paths.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

/** A private folder holding a link to a file in a folder every local user can write. */
function linkIntoOpenFolder(name: string): { link: string; target: string; open: string } {
  const root = tempDir();
  const mine = join(root, 'mine');
  const open = join(root, 'open');
  mkdirSync(mine, { mode: 0o700 });
  mkdirSync(open);
  chmodSync(open, 0o777);
  const target = join(open, name);
  const link = join(mine, name);
  symlinkSync(target, link);
  return { link, target, open };
}

describe('trusted files behind a symlink', () => {
  it('a policy file symlinked into a world-writable folder is refused (anyone can replace the target)', () => {
    const { link, target, open } = linkIntoOpenFolder('policy.yaml');
    copyFileSync(TRANSPARENT_POLICY, target);
    chmodSync(target, 0o644);
    const reason = untrustedFileReason(link);
    expect(reason).toBeDefined();
    expect(reason).toContain(open);
  });

  it('a config file symlinked into a world-writable folder fails start-up (config_invalid)', () => {
    const { link, target } = linkIntoOpenFolder('warden.yaml');
    writeFileSync(target, stringify(acmeConfig()));
    chmodSync(target, 0o644);
    let err: unknown;
    try {
      loadWardenConfig(link, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('config_invalid');
  });

  it('a symlink to a file in a private folder is still trusted', () => {
    const root = tempDir();
    const target = join(root, 'real.yaml');
    copyFileSync(TRANSPARENT_POLICY, target);
    chmodSync(target, 0o644);
    const link = join(root, 'policy.yaml');
    symlinkSync(target, link);
    expect(untrustedFileReason(link)).toBeUndefined();
  });
});
