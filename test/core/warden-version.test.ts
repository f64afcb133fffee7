import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WARDEN_VERSION } from '../../src/core/warden-version.js';
import { WARDEN_SERVER_INFO } from '../../src/proxy/start-warden.js';

describe('warden version', () => {
  it('is the package version, in the server info too (not a copy that drifts)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(WARDEN_VERSION).toBe(pkg.version);
    expect(WARDEN_SERVER_INFO.version).toBe(pkg.version);
  });
});
