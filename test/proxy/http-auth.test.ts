import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { startHttpWarden } from '../helpers/in-process-warden.js';
import { connectHttp } from '../helpers/mcp-clients.js';
import { rawHttp } from '../helpers/raw-http.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { createTestAuthenticator, testPrincipal } from '../helpers/test-authenticator.js';

const metadata = { resource: 'http://127.0.0.1/mcp', authorization_servers: ['https://idp.test'] };

describe('HTTP authentication and session binding', () => {
  const audit = createRecordingAudit();
  const seen: ToolCallRequest[] = [];
  const auth = createTestAuthenticator(
    {
      alice: testPrincipal('alice', 'agent-a'),
      'alice-refreshed': testPrincipal('alice', 'agent-a'),
      bob: testPrincipal('bob', 'agent-b'),
      'alice-other-agent': testPrincipal('alice', 'agent-x'),
      // The same user and agent, but another OAuth client's token, or the agent reached through
      // another delegation chain: the principal rate windows count by, not the session's owner.
      'alice-other-client': { ...testPrincipal('alice', 'agent-a'), clientId: 'other-app' },
      'alice-other-chain': { ...testPrincipal('alice', 'agent-a'), priorActors: ['planner'], priorActorIssuers: [null] },
      'app-one': { ...testPrincipal('alice'), clientId: 'app-one' },
      'app-two': { ...testPrincipal('alice'), clientId: 'app-two' },
    },
    { metadata },
  );
  let warden: Awaited<ReturnType<typeof startHttpWarden>>;
  beforeAll(async () => {
    warden = await startHttpWarden({ dangerouslyAllowAnonymous: false }, {
      authenticator: auth, audit, guard: { checkToolCall: async (req) => (seen.push(req), { kind: 'forward' }) },
    });
  });
  afterAll(() => warden.close());

  it('answers a missing token with 401, WWW-Authenticate and {error, error_description}', async () => {
    const res = await rawHttp(warden.url, { headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: new URL(warden.url).host }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('resource_metadata=');
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body.error).toBe('invalid_token');
    expect(typeof body.error_description).toBe('string');
    expect(audit.ofType('identity.failed').length).toBeGreaterThan(0);
  });

  it('serves protected-resource metadata at both well-known paths', async () => {
    const base = new URL(warden.url).origin;
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(metadata);
    }
  });

  it('binds the session principal into every ToolCallRequest', async () => {
    const client = await connectHttp(warden.url, { token: 'alice' });
    await client.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    const last = seen.at(-1)!;
    expect([last.principal.user, last.principal.actor, last.transport]).toEqual(['alice', 'agent-a', 'http']);
    await client.close();
  });

  it('rejects a request on a session opened by another principal (session hijack) with 403 and audits it', async () => {
    const alice = await connectHttp(warden.url, { token: 'alice' });
    const sessionId = alice.transport.sessionId!;
    const callsBefore = seen.length;
    for (const token of ['bob', 'alice-other-agent', 'alice-other-client', 'alice-other-chain']) {
      const res = await fetch(warden.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'transfer_funds', arguments: { amount: 1e6, currency: 'USD', payee: 'mallory' } } }),
      });
      expect(res.status).toBe(403);
    }
    expect(seen.length).toBe(callsBefore); // never reached the guard, never forwarded
    const hijacks = audit.ofType('session.hijack_rejected');
    expect(hijacks).toHaveLength(4);
    expect(hijacks[0]!.sessionId).toBe(sessionId);
    // The same principal with a refreshed token keeps using its session.
    const res = await (await connectHttp(warden.url, { token: 'alice' })).client.ping();
    expect(res).toEqual({});
    const still = await alice.client.callTool({ name: 'echo', arguments: { message: 'mine' } });
    expect(still.content).toEqual([{ type: 'text', text: 'mine' }]);
    await alice.close();
  });

  it("blocks another app holding the same user's token (no agent) from driving an app's session (cross-client session riding)", async () => {
    const one = await connectHttp(warden.url, { token: 'app-one' });
    const callsBefore = seen.length;
    const res = await fetch(warden.url, {
      method: 'POST',
      headers: { authorization: 'Bearer app-two', 'mcp-session-id': one.transport.sessionId!, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'not mine' } } }),
    });
    expect(res.status).toBe(403);
    expect(seen.length).toBe(callsBefore);
    expect(audit.ofType('session.hijack_rejected').at(-1)).toMatchObject({ sessionId: one.transport.sessionId, expected: { clientId: 'app-one' }, presented: { clientId: 'app-two' } });
    await one.close();
  });

  it('accepts a refreshed token for the same user and actor on the same session', async () => {
    const alice = await connectHttp(warden.url, { token: 'alice' });
    const sessionId = alice.transport.sessionId!;
    const res = await fetch(warden.url, {
      method: 'POST',
      headers: { authorization: 'Bearer alice-refreshed', 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'ping' }),
    });
    expect(res.status).toBe(200);
    await alice.close();
  });
});

describe('protected-resource metadata for a resource behind a reverse proxy', () => {
  // identity.resource names the URL agents use (here a path under /api); the 401's
  // resource_metadata points at /.well-known/oauth-protected-resource/api/mcp (RFC 9728 §3.1).
  const behindProxy = { resource: 'https://warden.example/api/mcp', authorization_servers: ['https://idp.test'] };
  let warden: Awaited<ReturnType<typeof startHttpWarden>>;
  beforeAll(async () => {
    warden = await startHttpWarden({ dangerouslyAllowAnonymous: false }, {
      authenticator: createTestAuthenticator({}, { metadata: behindProxy }),
      guard: { checkToolCall: async () => ({ kind: 'forward' }) },
    });
  });
  afterAll(() => warden.close());

  it('serves the metadata at the path the resource names, where a client following the 401 looks (it was a 404)', async () => {
    const base = new URL(warden.url).origin;
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/api/mcp`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(behindProxy);
    expect((await fetch(`${base}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
  });
});
