import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');

function warden(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('warden policy (compiled binary; run `npx tsc -p tsconfig.json` first)', () => {
  it('is built', () => {
    expect(existsSync(MAIN)).toBe(true);
  });
  it('runs every shipped scenario and exits 0', () => {
    const files = readdirSync(join(ROOT, 'examples/scenarios')).map((f) => join('examples/scenarios', f));
    const r = warden('policy', 'test', ...files);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${files.length} scenarios, (\\d+)/\\1 checked steps passed`));
  });
  it('check rejects a bad file with exit 3, naming file and key path on stderr', () => {
    const r = warden('policy', 'check', 'test/fixtures/policy/bad/duplicate-rule-id.yaml');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('test/fixtures/policy/bad/duplicate-rule-id.yaml: rules[1].id:');
    expect(r.stdout).toBe('');
  });
  it('check names the key a misspelt one most likely meant, and exits 3', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'policy-check-')), 'misspelt.yaml');
    writeFileSync(file, 'version: 1\ndefualts:\n  high: block\nrules:\n  - id: r1\n    action: block\n    mach: { tools: [x] }\n');
    const r = warden('policy', 'check', file);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${file}: (root): unknown key 'defualts' (did you mean 'defaults'?)`);
    expect(r.stderr).toContain(`${file}: rules[0]: unknown key 'mach' (did you mean 'match'?)`);
    expect(r.stdout).toBe('');
  });
});
