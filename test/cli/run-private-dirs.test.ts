import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

/** `warden run` with stdin already at end: it starts, sees the agent gone, and stops. */
function runOnce(configFile: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { input: '', encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

function configWithState(stateMode: number): { dir: string; configFile: string; state: string } {
  const dir = tempDir();
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, stringify(acmeConfig()));
  const state = join(dir, '.warden');
  mkdirSync(state);
  chmodSync(state, stateMode);
  return { dir, configFile, state };
}

describe('warden run keeps its state folder private', () => {
  it('tightens an existing 0755 .warden to 0700 and says so on stderr', () => {
    const { configFile, state } = configWithState(0o755);
    const r = runOnce(configFile);
    expect(r.status).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(r.stderr.split('\n').filter((l) => l.includes('tightened'))).toHaveLength(1);
  });

  it('refuses to start on a world-writable .warden, sticky bit or not (exit 3, naming the config file and key)', () => {
    const { configFile, state } = configWithState(0o1777);
    const r = runOnce(configFile);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${configFile}: control.adminTokenFile:`);
    expect(statSync(state).mode & 0o7777).toBe(0o1777);
  });
});
