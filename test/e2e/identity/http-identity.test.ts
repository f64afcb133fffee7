import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/canonical-json.js';
import { generateSigningKey } from '../../../src/identity/dev-tokens.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { auditOfType, E2E_ISSUER, E2E_RESOURCE, eventually, identityEnv, readAudit, upstreamCalls, type IdentityEnv } from '../../helpers/identity-env.js';
import { startHttpWarden, type HttpWarden } from '../../helpers/identity-warden.js';

/**
 * Issue 3 over Streamable HTTP, end to end: a real `warden run` process with a JWKS-file issuer,
 * real SDK clients with minted tokens, the ACME server as upstream.
 */
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const METADATA_URL = 'https://warden.e2e.test/.well-known/oauth-protected-resource/mcp';

let env: IdentityEnv;
let warden: HttpWarden;

/** POSTs initialize with the given Authorization header (or none). */
function initWith(authorization?: string, extra: Record<string, string> = {}) {
  return rawHttp(warden.url, { headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}), ...extra }, body: INIT });
}

beforeAll(async () => {
  env = await identityEnv();
  warden = await startHttpWarden(env.dir, env.config({
    identity: env.identity({ requiredScopes: ['tools:call'] }),
    policy: { files: [TRANSPARENT_POLICY], watch: false },
  }));
});
afterAll(async () => {
  await warden?.stop();
});

describe('HTTP identity through a running warden (issue 3)', () => {
  it('answers a request without a token with 401 and the resource metadata URL (no error attribute)', async () => {
    const res = await initWith();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
    expect(JSON.parse(res.body).reason).toBe('token_missing');
    const failed = await eventually(() => auditOfType(env.auditFile, 'identity.failed').filter((r) => r.reason === 'token_missing'));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.tokenDigest).toBeUndefined();
  });

  it('serves RFC 9728 protected-resource metadata at the well-known path', async () => {
    const origin = new URL(warden.url).origin;
    const res = await rawHttp(`${origin}/.well-known/oauth-protected-resource/mcp`, { method: 'GET' });
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.body);
    expect(doc.resource).toBe(E2E_RESOURCE);
    expect(doc.authorization_servers).toEqual([E2E_ISSUER]);
    expect(doc.scopes_supported).toEqual(['tools:call']);
  });

  const rejected: [string, () => Promise<string>, string][] = [
    ['rejects an expired token', () => env.mint({ user: 'alice', scope: 'tools:call', nowMs: Date.now() - 3_600_000, ttlSeconds: 60 }), 'token_expired'],
    ['rejects a token for another audience (RFC 8707)', () => env.mint({ user: 'alice', scope: 'tools:call', audience: 'https://other.example/mcp' }), 'audience_mismatch'],
    ['rejects a token signed by an untrusted key with the trusted kid', async () => env.mint({ user: 'alice', scope: 'tools:call', key: await generateSigningKey({ kid: 'e2e-1' }) }), 'signature_invalid'],
    ['rejects a token from an untrusted issuer', () => env.mint({ user: 'alice', scope: 'tools:call', claims: { iss: 'https://evil.example' } }), 'issuer_untrusted'],
    ['rejects a malformed token', async () => 'not-a-jwt', 'token_segments'],
  ];
  for (const [name, mint, reason] of rejected) {
    it(`${name}: 401 invalid_token with reason ${reason}`, async () => {
      const token = await mint();
      const res = await initWith(`Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(new RegExp(`^Bearer resource_metadata="${METADATA_URL}", error="invalid_token", error_description="[^"]+"$`));
      const body = JSON.parse(res.body);
      expect(body).toMatchObject({ error: 'invalid_token', reason });
      const failed = await eventually(() => auditOfType(env.auditFile, 'identity.failed').filter((r) => r.reason === reason));
      // One record per rejection, with the client address and a digest of the token.
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ transport: 'http', remoteAddress: '127.0.0.1', tokenDigest: `sha256:${sha256Hex(token)}` });
      // The audit names a digest of the token, never the token itself.
      expect(JSON.stringify(readAudit(env.auditFile))).not.toContain(token);
    });
  }

  it('refuses a valid token without the required scope: 403 insufficient_scope', async () => {
    const res = await initWith(`Bearer ${await env.mint({ user: 'alice', scope: 'files:read' })}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="tools:call"');
    expect(JSON.parse(res.body)).toMatchObject({ error: 'insufficient_scope', reason: 'insufficient_scope' });
  });

  it('serves a real agent with a valid minted token; the audit names the user and the actor chain', async () => {
    const token = await env.mint({ user: 'alice', actor: 'agent-7', chain: ['planner'], scope: 'tools:call' });
    const agent = await warden.connect(token);
    try {
      const { tools } = await agent.client.listTools();
      expect(tools.map((t) => t.name)).toContain('echo');
      const result = await agent.client.callTool({ name: 'echo', arguments: { message: 'hi alice' } });
      expect(result.content).toEqual([{ type: 'text', text: 'hi alice' }]);
      const received = await eventually(() => auditOfType(env.auditFile, 'call.received').find((r) => (r.principal as { user: string }).user === 'alice'));
      expect(received.principal).toMatchObject({ issuer: E2E_ISSUER, user: 'alice', actor: 'agent-7', actorChain: ['agent-7', 'planner'], anonymous: false });
      expect(upstreamCalls(env.callLog)).toContain('echo');
    } finally {
      await agent.close();
    }
  });

  it('binds a session to its principal: another user\'s valid token on it is 403 and audited session.hijack_rejected', async () => {
    const alice = await warden.connect(await env.mint({ user: 'alice', actor: 'agent-7', scope: 'tools:call' }));
    try {
      const sessionId = alice.transport.sessionId!;
      expect(sessionId).toBeTruthy();
      const before = upstreamCalls(env.callLog).length;
      const mallory = await env.mint({ user: 'mallory', actor: 'agent-7', scope: 'tools:call' });
      const call = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'stolen' } } });
      const res = await rawHttp(warden.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${mallory}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body: call });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error).toBe('forbidden');
      const hijack = await eventually(() => auditOfType(env.auditFile, 'session.hijack_rejected').find((r) => r.sessionId === sessionId));
      expect(JSON.stringify(hijack)).toContain('mallory');
      expect(upstreamCalls(env.callLog).length).toBe(before);
      // The owner's session is unharmed, and a refreshed token of the same user and agent may ride on it.
      const ok = await alice.client.callTool({ name: 'echo', arguments: { message: 'still mine' } });
      expect(ok.isError).toBeFalsy();
      const refreshed = await env.mint({ user: 'alice', actor: 'agent-7', scope: 'tools:call' });
      const again = await rawHttp(warden.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${refreshed}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body: call.replace('stolen', 'refreshed') });
      expect(again.status).toBe(200);
      expect(again.body).toContain('refreshed');
    } finally {
      await alice.close();
    }
  });

  it('an actor with the same sub from another issuer cannot take over a session', async () => {
    const actAt = (iss: string | undefined) => ({ act: { sub: 'agent-7', ...(iss !== undefined ? { iss } : {}) } });
    const owner = await warden.connect(await env.mint({ user: 'alice', scope: 'tools:call', claims: actAt('https://agents.a.test') }));
    try {
      const sessionId = owner.transport.sessionId!;
      const before = upstreamCalls(env.callLog).length;
      const call = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'stolen' } } });
      const post = async (token: string, body: string) =>
        rawHttp(warden.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body });
      // Same user, same act.sub: one token from a co-tenant actor namespace, one naming no actor issuer.
      for (const iss of ['https://agents.b.test', undefined]) {
        const res = await post(await env.mint({ user: 'alice', scope: 'tools:call', claims: actAt(iss) }), call);
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body).error).toBe('forbidden');
      }
      const hijacks = await eventually(() => {
        const found = auditOfType(env.auditFile, 'session.hijack_rejected').filter((r) => r.sessionId === sessionId);
        return found.length === 2 ? found : undefined;
      });
      expect(hijacks.map((h) => (h.presented as { actorIssuer: unknown }).actorIssuer)).toEqual(['https://agents.b.test', null]);
      expect(hijacks.map((h) => (h.expected as { actorIssuer: unknown }).actorIssuer)).toEqual(['https://agents.a.test', 'https://agents.a.test']);
      expect(upstreamCalls(env.callLog).length).toBe(before);
      // The owner's refreshed token (same issuer, same sub) still rides on it.
      const again = await post(await env.mint({ user: 'alice', scope: 'tools:call', claims: actAt('https://agents.a.test') }), call.replace('stolen', 'refreshed'));
      expect(again.status).toBe(200);
      expect(again.body).toContain('refreshed');
    } finally {
      await owner.close();
    }
  });

  it('gives every forwarded call a verified, non-anonymous principal', async () => {
    const received = auditOfType(env.auditFile, 'call.received');
    expect(received.length).toBeGreaterThan(0);
    for (const r of received) expect(r.principal).toMatchObject({ anonymous: false, issuer: E2E_ISSUER });
  });
});
