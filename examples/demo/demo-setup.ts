import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { generateSigningKey, mintToken } from '../../src/identity/dev-tokens.js';

/** Repository root, from dist/examples/demo/. */
export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const WARDEN_MAIN = join(ROOT, 'dist/src/cli/main.js');
const ACME_SERVER = join(ROOT, 'dist/examples/servers/acme-server.js');
export const DEMO_POLICY = join(ROOT, 'examples/demo/demo-policy.yaml');

export const ISSUER = 'https://idp.demo.example';
export const AUDIENCE = 'https://warden.demo.example/mcp';

/** Everything the demo created in its temporary folder. */
export interface DemoSetup {
  readonly dir: string;
  readonly configFile: string;
  readonly auditFile: string;
  readonly adminTokenFile: string;
  readonly controlUrlFile: string;
  /** Who the token says is calling, for printing. */
  readonly who: string;
}

/**
 * Creates a temp folder with a fresh signing key (public half as a JWKS file), a token for alice
 * acting through demo-agent on behalf of a planner, and a warden config using all of it.
 * Real identity: no anonymous mode anywhere in the demo.
 */
export async function createDemoSetup(): Promise<DemoSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  const key = await generateSigningKey();
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(key.jwks, null, 2));
  const token = await mintToken({
    key,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'alice',
    actor: 'demo-agent',
    actorChain: ['planner'],
    scope: 'tools:read payments:write',
    ttlSeconds: 900,
  });
  const tokenFile = join(dir, 'agent-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const auditFile = join(dir, 'audit.jsonl');
  const adminTokenFile = join(dir, 'admin-token');
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, stringify(demoConfig({ jwksFile, tokenFile, auditFile, adminTokenFile, pinsFile: join(dir, 'pins.json') })));
  return { dir, configFile, auditFile, adminTokenFile, controlUrlFile: join(dir, 'control-url'), who: 'alice via demo-agent (on behalf of planner)' };
}

/**
 * How long the demo's approval waits for a person: warden's default, 50 s. Tests of the
 * interactive path shorten it with WARDEN_DEMO_APPROVAL_TIMEOUT_MS rather than wait that long.
 */
function approvalTimeoutMs(): number {
  const given = Number(process.env.WARDEN_DEMO_APPROVAL_TIMEOUT_MS);
  return Number.isInteger(given) && given > 0 ? given : 50_000;
}

/** The warden config the demo runs; see examples/warden.yaml for the commented version. */
function demoConfig(p: { jwksFile: string; tokenFile: string; auditFile: string; adminTokenFile: string; pinsFile: string }): Record<string, unknown> {
  return {
    upstreams: { acme: { command: process.execPath, args: [ACME_SERVER] } },
    listen: { stdio: true },
    logging: { level: 'warn' },
    identity: {
      resource: AUDIENCE,
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksFile: p.jwksFile, algorithms: ['ES256'] }],
      // stdio: the agent's token is handed to warden out of band, here in a file (re-read on change).
      token: { file: p.tokenFile },
    },
    policy: { files: [DEMO_POLICY], watch: false },
    audit: { file: p.auditFile },
    // list_customers is throttled by policy; this bucket makes the demo's burst visible quickly.
    throttle: { buckets: [{ key: 'user_agent', ratePerMinute: 60, burst: 2 }], maxWaitMs: 1500 },
    approvals: { timeoutMs: approvalTimeoutMs(), progressIntervalMs: 5_000 },
    control: { port: 0, adminTokenFile: p.adminTokenFile },
    pins: { file: p.pinsFile },
  };
}
