import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOfType, eventually, identityEnv, upstreamCalls, type IdentityEnv } from '../../helpers/identity-env.js';
import { loggedUrl, runWardenCli, startStdioWarden } from '../../helpers/identity-warden.js';
import { at, EVENTS_POLICY, pushSet, transmitter, userSubject, type Transmitter } from '../../helpers/events-sets.js';
import { controlApi, type ControlApi } from '../../helpers/events-control.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';

/**
 * Issue 7 over stdio, end to end: the agent launched warden itself; its token comes from a file.
 * Operators use the real `warden sessions` / `warden revoke` CLIs against the running process,
 * and SETs pushed to its receiver re-evaluate the next call. A stdio session stays open after a
 * revocation (closing it would end the agent's connection): its calls are refused until a token
 * issued after the revocation is put in the token file.
 */
type CallResult = { isError?: boolean; _meta?: Record<string, { reason?: string }> };
const decisionOf = (r: unknown) => (r as CallResult)._meta?.['dev.mcp-warden/decision'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: IdentityEnv;
let tx: Transmitter;
let agent: ConnectedClient;
let eventsUrl: string;
let control: ControlApi;
let tokenFile: string;

function writeToken(token: string): void {
  writeFileSync(`${tokenFile}.tmp`, token);
  renameSync(`${tokenFile}.tmp`, tokenFile);
}
const echo = (message: string) => agent.client.callTool({ name: 'echo', arguments: { message } });
const cli = (...args: string[]) => runWardenCli([...args, '--token-file', env.adminTokenFile, '--json']);

beforeAll(async () => {
  env = await identityEnv('warden-e2e-evs-');
  tx = await transmitter(env.dir);
  tokenFile = join(env.dir, 'agent.jwt');
  writeToken(await env.mint({ user: 'alice', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
  agent = await startStdioWarden(env.dir, env.config({
    identity: env.identity({ token: { file: tokenFile } }),
    policy: { files: [EVENTS_POLICY], watch: false },
    events: tx.section(),
  }));
  eventsUrl = await eventually(() => loggedUrl(agent.stderr, 'security event receiver listening'));
  control = await controlApi(env.adminTokenFile);
});
afterAll(async () => {
  await agent?.close();
});

describe('operators: warden sessions and warden revoke against a running stdio warden', () => {
  it('lists the agent\'s session with its principal (warden sessions --json)', async () => {
    expect((await echo('hello')).isError).toBeFalsy();
    const out = await cli('sessions');
    expect(out.status).toBe(0);
    const { sessions } = JSON.parse(out.stdout) as { sessions: { transport: string; user: string; actor?: string; lastCallAt?: number }[] };
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ transport: 'stdio', user: 'alice', actor: 'agent-7', anonymous: false });
    // The call above is the session's last: the README promises lastCallAt once a call was made.
    expect(sessions[0]?.lastCallAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('blocks the user\'s next call after warden revoke --user; a token issued later works', async () => {
    const out = await cli('revoke', '--user', 'alice');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ revoked: { id: expect.any(String) } });
    const before = upstreamCalls(env.callLog).length;
    const refused = await echo('after revoke');
    expect(refused.isError).toBe(true);
    expect(decisionOf(refused)?.reason).toBe('revoked');
    expect(upstreamCalls(env.callLog).length).toBe(before);
    expect(auditOfType(env.auditFile, 'revocation').length).toBeGreaterThan(0);
    // iat has one-second resolution: a sign-in in the same second as the revocation is still covered.
    await sleep(1100);
    writeToken(await env.mint({ user: 'alice', actor: 'agent-7' }));
    expect((await echo('signed in again')).isError).toBeFalsy();
  });
});

describe('security events against a running stdio warden', () => {
  it('session-revoked withdraws the held call and refuses the next one; a newer token works', async () => {
    writeToken(await env.mint({ user: 'bob', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
    expect((await echo('as bob')).isError).toBeFalsy();
    const held = agent.client.callTool({ name: 'delete_record', arguments: { table: 'crm', id: 1 } });
    await control.waitPending('delete_record', 'bob');
    expect((await pushSet(eventsUrl, await tx.mint({ subId: userSubject('bob'), events: { 'session-revoked': at(Date.now() - 5_000) } }))).status).toBe(202);
    expect(decisionOf(await held)?.reason).toBe('approval_withdrawn');
    expect(decisionOf(await echo('after event'))?.reason).toBe('revoked');
    writeToken(await env.mint({ user: 'bob', actor: 'agent-7' }));
    expect((await echo('new token')).isError).toBeFalsy();
    expect(upstreamCalls(env.callLog)).not.toContain('delete_record');
  });

  it('risk-level-change makes a high call need approval until a fresh token is in the file', async () => {
    writeToken(await env.mint({ user: 'carol', actor: 'agent-7', nowMs: Date.now() - 10_000 }));
    const email = { name: 'send_email', arguments: { to: 'x@acme.example', subject: 's', body: 'b' } };
    expect((await agent.client.callTool(email)).isError).toBeFalsy();
    const set = await tx.mint({ subId: userSubject('carol'), events: { 'risk-level-change': { current_level: 'high', previous_level: 'low', ...at(Date.now() - 5_000) } } });
    expect((await pushSet(eventsUrl, set)).status).toBe(202);
    const held = agent.client.callTool(email);
    const pending = await control.waitPending('send_email', 'carol');
    expect((await control.post(`/approvals/${pending.id}/allow`, {})).status).toBe(200);
    expect((await held).isError).toBeFalsy(); // a human approved this one
    writeToken(await env.mint({ user: 'carol', actor: 'agent-7' }));
    expect((await agent.client.callTool(email)).isError).toBeFalsy();
    expect(await control.pending()).toEqual([]);
    expect(auditOfType(env.auditFile, 'call.approval_requested')).toHaveLength(2); // delete_record above, send_email here
  });
});
