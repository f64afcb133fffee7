import { chmodSync, lchownSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/core/errors.js';
import { preparePrivateDirs, type DirStat } from '../../src/runtime/private-dirs.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

function setup(overrides: Record<string, unknown> = {}): { dir: string; configFile: string; load: () => ReturnType<typeof loadWardenConfig> } {
  const dir = tempDir();
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, stringify(acmeConfig(overrides)));
  return { dir, configFile, load: () => loadWardenConfig(configFile, {}) };
}

const modeOf = (path: string): number => statSync(path).mode & 0o7777;

function refusal(fn: () => void): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('private state folders', () => {
  it('tightens an existing group/world-readable .warden of this user to 0700 and says so once', () => {
    const s = setup();
    const state = join(s.dir, '.warden');
    mkdirSync(state);
    chmodSync(state, 0o755);
    const notes: string[] = [];
    preparePrivateDirs(s.load(), s.configFile, { note: (m) => notes.push(m) });
    expect(modeOf(state)).toBe(0o700);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(state);
    // Already private: nothing to say on the next start.
    preparePrivateDirs(s.load(), s.configFile, { note: (m) => notes.push(m) });
    expect(notes).toHaveLength(1);
  });

  it('creates a missing .warden with mode 0700', () => {
    const s = setup();
    preparePrivateDirs(s.load(), s.configFile, { note: () => undefined });
    expect(modeOf(join(s.dir, '.warden'))).toBe(0o700);
  });

  it('refuses a .warden owned by another user, naming the config file and key', () => {
    const s = setup();
    mkdirSync(join(s.dir, '.warden'), { mode: 0o700 });
    const other: DirStat = { mode: 0o40700, uid: 4242, isDirectory: () => true };
    const err = refusal(() => preparePrivateDirs(s.load(), s.configFile, { note: () => undefined, uid: 1000, stat: () => other }));
    expect(err.code).toBe('config_invalid');
    expect(err.file).toBe(s.configFile);
    expect(err.keyPath).toBe('control.adminTokenFile');
    expect(err.message).toContain(s.configFile);
  });

  it('refuses a world-writable state folder even with the sticky bit (another user could plant files)', () => {
    const s = setup({ control: { adminTokenFile: 'shared/admin-token' } });
    const shared = join(s.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const err = refusal(() => preparePrivateDirs(s.load(), s.configFile, { note: () => undefined }));
    expect(err.keyPath).toBe('control.adminTokenFile');
    expect(modeOf(shared)).toBe(0o1777);
  });

  it('accepts a sticky world-writable audit folder (a tmpfs root) but not one without the sticky bit', () => {
    const s = setup({ audit: { file: 'logs/audit.jsonl' } });
    mkdirSync(join(s.dir, 'logs'));
    chmodSync(join(s.dir, 'logs'), 0o1777);
    preparePrivateDirs(s.load(), s.configFile, { note: () => undefined });
    expect(modeOf(join(s.dir, 'logs'))).toBe(0o1777);
  });

  it('refuses a world-writable audit folder, naming audit.file', () => {
    const s = setup({ audit: { file: 'logs/audit.jsonl' } });
    mkdirSync(join(s.dir, 'logs'));
    chmodSync(join(s.dir, 'logs'), 0o777);
    expect(refusal(() => preparePrivateDirs(s.load(), s.configFile, { note: () => undefined })).keyPath).toBe('audit.file');
  });

  it('accepts a root-owned folder as it is, and never chmods shared folders (audit, log, the config folder)', () => {
    const s = setup({ audit: { file: 'logs/audit.jsonl' }, control: { adminTokenFile: 'admin-token' } });
    mkdirSync(join(s.dir, 'logs'));
    chmodSync(join(s.dir, 'logs'), 0o755);
    chmodSync(s.dir, 0o755);
    const notes: string[] = [];
    preparePrivateDirs(s.load(), s.configFile, { note: (m) => notes.push(m) });
    expect(modeOf(join(s.dir, 'logs'))).toBe(0o755);
    expect(modeOf(s.dir)).toBe(0o755);
    const rootOwned: DirStat = { mode: 0o40755, uid: 0, isDirectory: () => true };
    preparePrivateDirs(s.load(), s.configFile, { note: (m) => notes.push(m), uid: 1000, stat: () => rootOwned });
    expect(notes).toEqual([]);
  });
});

describe('private state folders behind a symlink', () => {
  it('refuses a .warden symlink planted by another user, and chmods nothing through it', () => {
    const s = setup();
    const target = join(s.dir, 'elsewhere');
    mkdirSync(target);
    chmodSync(target, 0o755);
    const link = join(s.dir, '.warden');
    symlinkSync(target, link);
    // As root the test can make the link another user's; otherwise the link check is unreachable.
    if (process.getuid?.() === 0) lchownSync(link, 4242, 4242);
    const uid = process.getuid?.() === 0 ? 0 : 4243;
    const err = refusal(() => preparePrivateDirs(s.load(), s.configFile, { note: () => undefined, uid, ...(uid === 0 ? {} : { lstat: () => ({ uid: 4242, isSymbolicLink: () => true }) }) }));
    expect(err.keyPath).toBe('control.adminTokenFile');
    expect(modeOf(target)).toBe(0o755);
  });

  it('refuses a .warden symlink another user planted while warden made the folder (the race between lstat and mkdir, as in /tmp)', () => {
    const s = setup();
    const target = join(s.dir, 'elsewhere');
    mkdirSync(target);
    chmodSync(target, 0o755);
    const link = join(s.dir, '.warden');
    const uid = process.getuid?.() === 0 ? 0 : 4243;
    let planted = false;
    // The lstat found nothing; the attacker's loop wins the race right after it.
    const stat = (path: string): DirStat | undefined => {
      if (path === link && !planted) {
        planted = true;
        symlinkSync(target, link);
        if (uid === 0) lchownSync(link, 4242, 4242);
        return undefined;
      }
      return statSync(path);
    };
    const lstat = (path: string) => {
      if (uid === 0 || !planted || path !== link) {
        try {
          return lstatSync(path);
        } catch {
          return undefined;
        }
      }
      return { uid: 4242, isSymbolicLink: () => true };
    };
    const err = refusal(() => preparePrivateDirs(s.load(), s.configFile, { note: () => undefined, uid, stat, lstat }));
    expect(err.keyPath).toBe('control.adminTokenFile');
    expect(modeOf(target)).toBe(0o755);
  });

  it('tightens the folder a .warden symlink of this user leads to', () => {
    const s = setup();
    const target = join(s.dir, 'elsewhere');
    mkdirSync(target);
    chmodSync(target, 0o755);
    symlinkSync(target, join(s.dir, '.warden'));
    preparePrivateDirs(s.load(), s.configFile, { note: () => undefined });
    expect(modeOf(target)).toBe(0o700);
  });
});
