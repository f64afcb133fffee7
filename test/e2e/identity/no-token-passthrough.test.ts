import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TRANSPARENT_POLICY, upstreams } from '../../helpers/paths.js';
import { identityEnv, upstreamCalls, type IdentityEnv } from '../../helpers/identity-env.js';
import { startHeaderSpy, type HeaderSpy } from '../../helpers/identity-header-spy.js';
import { startHttpWarden, startStdioWarden, type HttpWarden } from '../../helpers/identity-warden.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * "Never pass the agent's token through to an upstream": agent --(token)--> warden A (identity)
 * --> header spy --> warden B (anonymous HTTP) --> ACME. The spy sees every header warden A sends
 * its HTTP upstream; the call really reaches ACME, so the path is proven to work, not just to exist.
 */
const UPSTREAM_CREDENTIAL = 'Bearer upstream-credential-for-acme';

let env: IdentityEnv;
let inner: HttpWarden;
let spy: HeaderSpy;
let outer: HttpWarden;

beforeAll(async () => {
  env = await identityEnv();
  const innerDir = tempDir('warden-e2e-inner-');
  inner = await startHttpWarden(innerDir, {
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: { ...upstreams.acme(), env: { ACME_CALL_LOG: env.callLog } } },
    logging: { level: 'info' },
    audit: { file: join(innerDir, 'audit.jsonl') },
    control: { port: 0, adminTokenFile: join(innerDir, '.warden', 'admin-token') },
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    pins: { file: join(innerDir, 'pins.json'), onNew: 'allow' },
  });
  spy = await startHeaderSpy(inner.url);
  outer = await startHttpWarden(env.dir, env.config({
    upstreams: { acme: { url: spy.url, headers: { Authorization: UPSTREAM_CREDENTIAL } } },
    policy: { files: [TRANSPARENT_POLICY], watch: false },
  }));
});
afterAll(async () => {
  await outer?.stop();
  await spy?.close();
  await inner?.stop();
});

describe('no token passthrough to an HTTP upstream (issue 3)', () => {
  it('forwards the call with the upstream\'s own credential, never the agent\'s token', async () => {
    const token = await env.mint({ user: 'alice', actor: 'agent-7', scope: 'tools:call' });
    const agent = await outer.connect(token);
    try {
      const result = await agent.client.callTool({ name: 'echo', arguments: { message: 'through two wardens' } });
      expect(result.content).toEqual([{ type: 'text', text: 'through two wardens' }]);
    } finally {
      await agent.close();
    }
    expect(upstreamCalls(env.callLog)).toEqual(['echo']);
    expect(spy.seen.length).toBeGreaterThan(0);
    for (const headers of spy.seen) {
      expect(headers.authorization).toBe(UPSTREAM_CREDENTIAL);
      // Not in any header, under any name.
      expect(JSON.stringify(headers)).not.toContain(token);
    }
  });
});

describe('no token passthrough to a stdio upstream (issue 3)', () => {
  it('starts the upstream child without the agent\'s token in its environment or arguments', async () => {
    const e = await identityEnv();
    const token = await e.mint({ user: 'alice', actor: 'agent-7' });
    const reporter = resolve(REPO_ROOT, 'test/fixtures/e2e-identity/env-report-server.mjs');
    const agent = await startStdioWarden(e.dir, e.config({
      upstreams: { reporter: { command: process.execPath, args: [reporter], env: { REPORTER_MODE: 'e2e' } } },
      identity: e.identity({ token: { env: 'WARDEN_TOKEN' } }),
      policy: { files: [TRANSPARENT_POLICY], watch: false },
    }), { env: { WARDEN_TOKEN: token } });
    try {
      const result = await agent.client.callTool({ name: 'report_env', arguments: {} });
      const seen = JSON.parse((result.content as { text: string }[])[0]!.text) as { env: Record<string, string>; argv: string[] };
      expect(seen.env.REPORTER_MODE).toBe('e2e'); // the configured environment does arrive
      expect(seen.env.WARDEN_TOKEN).toBeUndefined();
      expect(JSON.stringify(seen)).not.toContain(token);
    } finally {
      await agent.close();
    }
  });
});
