import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

function keygen(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, 'token', 'keygen', '--out', dir], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('warden token keygen with a broken jwks.json', () => {
  it.each([
    ['not JSON', 'not json\n'],
    ['keys not a list', '{"keys": "x"}\n'],
  ])('%s: exit 3 naming the file, no private key written, jwks.json untouched', (_name, content) => {
    const dir = tempDir();
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, content);
    const r = keygen(dir);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(jwks);
    expect(readdirSync(dir)).toEqual(['jwks.json']);
    expect(readFileSync(jwks, 'utf8')).toBe(content);
  });
});
