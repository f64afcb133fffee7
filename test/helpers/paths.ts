import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Repository root (tests run TypeScript; spawned processes run the compiled dist/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** `warden` CLI entry, compiled. Build first: `npx tsc -p tsconfig.json`. */
export const WARDEN_MAIN = resolve(REPO_ROOT, 'dist/src/cli/main.js');
/** The ACME example tool server (stdio), compiled. */
export const ACME_SERVER = resolve(REPO_ROOT, 'dist/examples/servers/acme-server.js');
/** Published reference servers (dev dependencies). */
/** Paginating test server (page size 2). */
export const PAGED_SERVER = resolve(REPO_ROOT, 'dist/examples/servers/paged-server.js');
export const EVERYTHING_SERVER = resolve(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM_SERVER = resolve(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

/** Upstream config entries for the test servers (stdio children run with this node binary). */
export const upstreams = {
  acme: () => ({ command: process.execPath, args: [ACME_SERVER] }),
  paged: () => ({ command: process.execPath, args: [PAGED_SERVER] }),
  everything: () => ({ command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'] }),
  filesystem: (root: string) => ({ command: process.execPath, args: [FILESYSTEM_SERVER, root] }),
};

/** A policy that explicitly allows every call: proxy transparency tests keep the engine in the path. */
export const TRANSPARENT_POLICY = resolve(REPO_ROOT, 'test/fixtures/policies/transparent.yaml');

/**
 * Config sections for tests about the proxy itself: the full decision path runs (identity,
 * policy, audit, pins) but allows everything, so what the agent sees must equal a direct connection.
 */
export const transparentGuardrails = (): Record<string, unknown> => ({
  policy: { files: [TRANSPARENT_POLICY], watch: false },
  pins: { onNew: 'allow' },
});
