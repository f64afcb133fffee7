import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsHttpWarden } from '../../helpers/events-warden.js';
import type { IdentityEnv } from '../../helpers/identity-env.js';
import type { HttpWarden } from '../../helpers/identity-warden.js';
import { at, pushSet, userSubject, type Transmitter } from '../../helpers/events-sets.js';
import type { ControlApi } from '../../helpers/events-control.js';

/**
 * A revocation that names the caller by a claim a token-claims-change gave it (the address the
 * user changed to, then the account is disabled by that address) covers the caller: the guard
 * blocks its tool calls. The rest of warden's reactions looked at the token as presented only:
 * its HTTP requests still passed the front door (it listed tools, opened new sessions), its open
 * sessions were not closed, and what they held (standing subscriptions, pending approvals) was
 * not ended. Real processes: SDK agents on `warden run` over HTTP, a test SET transmitter.
 */
let env: IdentityEnv;
let tx: Transmitter;
let warden: HttpWarden;
let eventsUrl: string;
let control: ControlApi;

beforeAll(async () => {
  ({ env, tx, warden, eventsUrl, control } = await startEventsHttpWarden('warden-e2e-override-revoke-'));
});
afterAll(async () => {
  await warden?.stop();
});

/** Whether the user's sessions are gone from the operators' list within a few seconds. */
async function sessionGone(user: string): Promise<boolean> {
  for (const end = Date.now() + 5_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const body = await control.get<{ sessions: { user: string }[] }>('/sessions');
    if (body.sessions.every((s) => s.user !== user)) return true;
  }
  return false;
}

describe('a revocation matched through claims a claims change gave the caller', () => {
  it('closes the caller\'s HTTP session and refuses its token at the front door (401 token_revoked)', async () => {
    const token = await env.mint({ user: '00u3001', actor: 'agent-7', claims: { email: 'old@acme.example' }, nowMs: Date.now() - 10_000 });
    const agent = await warden.connect(token);
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'before' } })).isError).toBeFalsy();
    const changed = await tx.mint({ subId: userSubject('00u3001'), events: { 'token-claims-change': { claims: { email: 'new@acme.example' }, ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, changed)).status).toBe(202);
    const revoked = await tx.mint({ subId: { format: 'email', email: 'new@acme.example' }, events: { 'session-revoked': at(Date.now() - 2_000) } });
    expect((await pushSet(eventsUrl, revoked)).status).toBe(202);

    // The session was closed by the revocation.
    expect(await sessionGone('00u3001')).toBe(true);
    // And the token opens no new one: refused before any session or method.
    const res = await fetch(warden.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason?: string }).reason).toBe('token_revoked');
    await agent.close().catch(() => undefined);
  });
});
