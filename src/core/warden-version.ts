import { readFileSync } from 'node:fs';

/**
 * mcp-warden's version, from its package.json: what `warden --version`, the `warden.start` audit
 * record and the server info in `initialize` report, so they never drift from the release.
 * Looked up relative to this module, which sits two folders down in the sources (src/core) and
 * three in the build (dist/src/core).
 */
export const WARDEN_VERSION: string = readVersion();

function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'mcp-warden' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level: try the next
    }
  }
  return 'unknown';
}
