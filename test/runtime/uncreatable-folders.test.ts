import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';
import { mkdirSync, writeFileSync } from 'node:fs';

/**
 * Node 20's mkdir with `recursive: true` never returns where mkdir(2) answers ENOENT under a
 * parent that exists (procfs: `mkdir /proc/x`): a config naming such a folder left `warden run`
 * spinning at full CPU, never serving and never saying why. Each folder is now made once
 * (make-directories.ts), and a folder that cannot be made is a configuration error naming the
 * file and the key.
 */
describe('a state folder that cannot be created stops warden run at once (exit 3, file and key named)', () => {
  it.each([
    ['audit.file', { audit: { file: '/proc/warden-test-nope/audit.jsonl' } }],
    ['pins.file', { pins: { file: '/proc/warden-test-nope/pins.json' } }],
    ['logging.file', { logging: { level: 'info', file: '/proc/warden-test-nope/warden.log' } }],
  ])('%s under /proc (instead of spinning forever)', (key, overrides) => {
    const file = join(tempDir(), 'warden.yaml');
    writeFileSync(file, stringify(acmeConfig(overrides)));
    const run = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { encoding: 'utf8', input: '', timeout: 15_000 });
    expect(run.signal, 'warden run was still running after 15 s').toBeNull();
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`${file}: ${key}: cannot create the folder /proc/warden-test-nope: ENOENT`);
  });
});

describe('a state folder with a file in its way stops warden run at start-up (exit 3, file and key named)', () => {
  it('audit.file under a regular file (ENOTDIR: stat fails but not as missing, so nothing was made and nothing said)', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const folder = join(dir, 'not-a-folder', 'audit');
    const file = join(dir, 'warden.yaml');
    writeFileSync(file, stringify(acmeConfig({ audit: { file: join(folder, 'audit.jsonl') } })));
    const run = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', file], { encoding: 'utf8', input: '', timeout: 15_000 });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`${file}: audit.file: cannot create the folder ${folder}: ENOTDIR`);
  });
});
