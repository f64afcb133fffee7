import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { completeJsonLines } from '../../../bench/fixtures/kill-under-load.js';
import { matchShape } from '../../helpers/audit-field-spec.js';
import { readAudit, waitForRecord, type AuditLine } from '../../helpers/audit-e2e-warden.js';
import { eventually, identityEnv, type IdentityEnv } from '../../helpers/identity-env.js';
import { loggedUrl, runWardenCli, startHttpWarden, startStdioWarden } from '../../helpers/identity-warden.js';
import { at, pushSet, transmitter, userSubject } from '../../helpers/events-sets.js';
import { until } from '../../helpers/progress.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * A standing resource subscription is judged once, when the agent makes it; warden then acts for
 * it unasked: it relays the upstream's updates and re-sends it to a restarted upstream. Those
 * follow risk changes: a revocation, a policy reload that no longer allows it, or a re-check before
 * a restore end it (resources/unsubscribe upstream, forgotten, audited as subscription.ended), and
 * no update for it reaches the agent afterwards. Real processes: an SDK agent on `warden run`
 * (stdio, signed tokens) in front of ACME, which sends resources/updated for what it holds every
 * 100 ms and logs every subscribe and unsubscribe it gets (ACME_READ_LOG).
 */
const README = 'acme://files/docs/readme.txt';
const NOTES = 'acme://files/docs/notes.txt';

const policy = (extra: { mode?: string; rate?: string; rules?: string; sensitivity?: string } = {}): string => `
version: "e2e-standing-subscriptions"
mode: ${extra.mode ?? 'enforce'}
defaults: { sensitivity: low, unclassifiedAction: allow, high: approve, critical: block }
thresholds: { throttle: 98, approve: 99, block: 100 }
anomalies:
  rate: { window: 1m, perTool: ${extra.rate ?? 'null'}, overall: null, perUser: null, weight: 30 }
  novelty: { toolWeight: 0 }
sensitivity:
${extra.sensitivity ?? ''}
  - { tools: [resources/subscribe, resources/read], level: low, class: read }
rules:
  - { id: allow-all, match: { tools: ['*'] }, action: allow }
${extra.rules ?? ''}`;

const BLOCK_README = `  - id: no-readme-subscriptions
    match: { tools: [resources/subscribe], arguments: [{ path: uri, regex: readme }] }
    action: block`;

type Logged = { subscribe?: string; unsubscribe?: string };

const closers = closedAfterEach();

/**
 * A stdio warden whose agent (alice via agent-7) records every resources/updated it receives.
 * With `events`, warden also takes signed SETs from a test transmitter (`transmitter`), and the
 * agent's token was issued 10 s ago (before any event) with the claim `account_status` read.
 */
async function subscribingAgent(policyText: string, acmeEnv: Record<string, string> = {}, options: { events?: boolean; ttlSeconds?: number; clockTolerance?: number } = {}) {
  const env: IdentityEnv = await identityEnv('warden-e2e-standing-');
  const tokenFile = join(env.dir, 'agent.jwt');
  const policyFile = join(env.dir, 'policy.yaml');
  const upstreamLog = join(env.dir, 'acme-requests.jsonl');
  const tx = options.events ? await transmitter(env.dir) : undefined;
  writeFileSync(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7', ...(tx ? { nowMs: Date.now() - 10_000 } : {}), ...(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}) }));
  writeFileSync(policyFile, policyText);
  writeFileSync(upstreamLog, '');
  const identity = env.identity({ token: { file: tokenFile }, ...(tx ? { extraClaims: ['account_status'] } : {}) });
  if (options.clockTolerance !== undefined) identity.issuers = (identity.issuers as Array<Record<string, unknown>>).map((i) => ({ ...i, clockTolerance: options.clockTolerance }));
  const config = env.config(
    {
      identity,
      policy: { files: [policyFile], watch: true },
      ...(tx ? { events: tx.section() } : {}),
    },
    { ACME_READ_LOG: upstreamLog, ACME_UPDATES_EVERY_MS: '100', ...acmeEnv },
  );
  const updates: string[] = [];
  const agent = await startStdioWarden(env.dir, config, {
    setup: (c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri)),
  });
  closers.push(() => agent.close());
  const logged = (): Logged[] => completeJsonLines<Logged>(upstreamLog);
  /** Pushes a SET about alice to warden's receiver; resolves once warden accepted it (202). */
  const pushEvent = async (events: Record<string, Record<string, unknown>>): Promise<void> => {
    if (!tx) throw new Error('subscribingAgent: started without events');
    const url = await eventually(() => loggedUrl(agent.stderr, 'security event receiver listening'));
    const res = await pushSet(url, await tx.mint({ subId: userSubject('alice'), events }));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
  };
  return {
    env, agent, updates, tokenFile, policyFile, pushEvent,
    subscribedUpstream: () => logged().flatMap((r) => (r.subscribe === undefined ? [] : [r.subscribe])),
    unsubscribedUpstream: () => logged().flatMap((r) => (r.unsubscribe === undefined ? [] : [r.unsubscribe])),
    ended: (): AuditLine[] => readAudit(env.auditFile).filter((r) => r.type === 'subscription.ended'),
    /** Waits until updates for `uri` flow to the agent. */
    flowing: async (uri: string) => {
      const before = updates.filter((u) => u === uri).length;
      await until(() => updates.filter((u) => u === uri).length >= before + 2, 5_000);
    },
    /** Updates for `uri` the agent receives over a second, once anything already on its way arrived. */
    updatesOverASecond: async (uri: string) => {
      await new Promise((r) => setTimeout(r, 300));
      const before = updates.filter((u) => u === uri).length;
      await new Promise((r) => setTimeout(r, 1_000));
      return updates.filter((u) => u === uri).length - before;
    },
    /** The crash tool: ACME exits mid-call and warden restarts it. */
    restartUpstream: async () => {
      const restarts = (): number => agent.stderr.filter((l) => l.includes('upstream restarted')).length;
      const before = restarts();
      await expect(agent.client.callTool({ name: 'crash', arguments: {} })).rejects.toMatchObject({ code: -32000 });
      await until(() => restarts() > before, 10_000);
    },
  };
}

describe('standing subscriptions follow risk changes', () => {
  it('a revoked caller keeps receiving resource updates (even from an upstream that ignores the unsubscribe), or gets its subscription back with a fresh token', async () => {
    // ACME answers the unsubscribe but goes on sending: only warden's own relay rule stops them.
    const w = await subscribingAgent(policy(), { ACME_IGNORE_UNSUBSCRIBE: '1' });
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);

    const revoked = await runWardenCli(['revoke', '--user', 'alice', '--token-file', w.env.adminTokenFile, '--json']);
    expect(revoked.status, revoked.stderr).toBe(0);
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended');
    expect(ended).toMatchObject({ reason: 'revoked', ended: true, upstream: 'acme', uri: README, eventId: expect.stringMatching(/^manual:/), principal: { user: 'alice', actor: 'agent-7' } });
    expect(matchShape(ended)).toEqual({ ok: true, shape: 'revoked' });
    await until(() => w.unsubscribedUpstream().includes(README));
    expect(await w.updatesOverASecond(README)).toBe(0);

    // A token issued after the revocation puts the caller in standing again (a second passes so its iat is later)...
    await new Promise((r) => setTimeout(r, 1_100));
    writeFileSync(w.tokenFile, await w.env.mint({ user: 'alice', actor: 'agent-7' }));
    await expect(w.agent.client.listTools()).resolves.toBeDefined();
    // ...but not the subscription warden ended: no updates, and a restarted upstream is not asked for it.
    expect(await w.updatesOverASecond(README)).toBe(0);
    await w.restartUpstream();
    await new Promise((r) => setTimeout(r, 500));
    expect(w.subscribedUpstream()).toEqual([README]);
    expect(w.ended()).toHaveLength(1);
    // Subscribing again is a request like any other, judged; the updates come back with it.
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
  }, 30_000);

  it('a caller whose claims a security event changed keeps receiving updates the policy no longer allows it (token-claims-change)', async () => {
    const suspendedMayNotWatch = `  - id: no-subscriptions-when-suspended
    match: { tools: [resources/subscribe], claims: [{ path: account_status, eq: suspended }] }
    action: block`;
    const w = await subscribingAgent(policy({ rules: suspendedMayNotWatch }), {}, { events: true });
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);

    await w.pushEvent({ 'token-claims-change': { claims: { account_status: 'suspended' }, ...at(Date.now() - 5_000) } });
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended');
    expect(ended).toMatchObject({ reason: 'security_event', ended: true, uri: README, action: 'block', enforced: 'block', rules: expect.arrayContaining(['no-subscriptions-when-suspended']) });
    expect(matchShape(ended)).toEqual({ ok: true, shape: 'policy' });
    await until(() => w.unsubscribedUpstream().includes(README));
    expect(await w.updatesOverASecond(README)).toBe(0);
  }, 30_000);

  it('a step-up for the sensitivity of a standing subscription ends it: nobody is asked for what the agent did not ask (assurance-level-change)', async () => {
    // Watching the notes is high: a step-up (approve at high and above, the default) covers it.
    const notesHigh = '  - { tools: [resources/subscribe], when: [{ path: uri, regex: notes }], level: high, class: read }';
    const w = await subscribingAgent(policy({ sensitivity: notesHigh }), {}, { events: true });
    await w.agent.client.subscribeResource({ uri: README });
    await w.agent.client.subscribeResource({ uri: NOTES });
    await w.flowing(NOTES);

    await w.pushEvent({ 'assurance-level-change': { namespace: 'NIST-AAL', current_level: 'nist-aal1', previous_level: 'nist-aal2', change_direction: 'decrease', ...at(Date.now() - 5_000) } });
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended');
    expect(ended).toMatchObject({ reason: 'security_event', ended: true, uri: NOTES, action: 'approve', enforced: 'approve' });
    await until(() => w.unsubscribedUpstream().includes(NOTES));
    expect(await w.updatesOverASecond(NOTES)).toBe(0);
    // The low one is not what the step-up is for: it stands.
    await w.flowing(README);
    expect(w.ended()).toHaveLength(1);
  }, 30_000);

  it('a subscription the reloaded policy blocks keeps delivering updates (the others stand)', async () => {
    const w = await subscribingAgent(policy());
    await w.agent.client.subscribeResource({ uri: README });
    await w.agent.client.subscribeResource({ uri: NOTES });
    await w.flowing(README);
    const subscribeCalls = readAudit(w.env.auditFile).filter((r) => r.type === 'call.received' && r.tool === 'resources/subscribe').length;

    writeFileSync(w.policyFile, policy({ rules: BLOCK_README }));
    const loaded = await waitForRecord(w.env.auditFile, (r) => r.type === 'policy.loaded' && r.reload === true);
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended');
    expect(ended).toMatchObject({
      reason: 'policy_reload', ended: true, uri: README, upstream: 'acme', action: 'block', enforced: 'block', mode: 'enforce',
      rules: ['allow-all', 'no-readme-subscriptions'], policyHash: loaded.policyHash,
    });
    expect(matchShape(ended)).toEqual({ ok: true, shape: 'policy' });
    await until(() => w.unsubscribedUpstream().includes(README));
    expect(await w.updatesOverASecond(README)).toBe(0);
    await w.flowing(NOTES);
    expect(w.unsubscribedUpstream()).toEqual([README]);
    expect(w.ended()).toHaveLength(1);
    // The re-check is no request of the agent's: nothing was counted or judged as one.
    expect(readAudit(w.env.auditFile).filter((r) => r.type === 'call.received' && r.tool === 'resources/subscribe')).toHaveLength(subscribeCalls);
    // Subscribing again is judged by the new policy.
    await expect(w.agent.client.subscribeResource({ uri: README })).rejects.toMatchObject({ data: { action: 'block', rules: ['allow-all', 'no-readme-subscriptions'] } });
  }, 30_000);

  it('monitor mode records the subscription a reloaded policy would end, and leaves it standing', async () => {
    const w = await subscribingAgent(policy());
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
    writeFileSync(w.policyFile, policy({ mode: 'monitor', rules: BLOCK_README }));
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended');
    expect(ended).toMatchObject({ reason: 'policy_reload', ended: false, uri: README, action: 'block', enforced: 'allow', mode: 'monitor' });
    await w.flowing(README);
    expect(w.unsubscribedUpstream()).toEqual([]);
  }, 30_000);

  it('an upstream restart re-sends, on the caller\'s behalf, subscriptions it would no longer be allowed now (re-checked without counting)', async () => {
    // Two subscriptions a minute are the most: a third (or a re-send of either, asked now) is a flood.
    const w = await subscribingAgent(policy({
      rate: '2',
      rules: `  - { id: no-subscription-floods, match: { tools: [resources/subscribe], reasons: [rate.tool] }, action: block }`,
    }));
    await w.agent.client.subscribeResource({ uri: README });
    await w.agent.client.subscribeResource({ uri: NOTES });
    await w.flowing(README);

    await w.restartUpstream();
    await until(() => w.ended().length === 2, 5_000);
    for (const ended of w.ended()) {
      expect(ended).toMatchObject({ reason: 'upstream_restart', ended: true, action: 'block', rules: ['allow-all', 'no-subscription-floods'] });
      expect(ended.codes).toContain('rate.tool');
    }
    expect(w.ended().map((r) => r.uri).sort()).toEqual([NOTES, README]);
    await new Promise((r) => setTimeout(r, 500));
    // Not re-sent to the new process, and nothing of it reaches the agent.
    expect(w.subscribedUpstream()).toEqual([README, NOTES]);
    expect(await w.updatesOverASecond(README)).toBe(0);
  }, 30_000);

  it('a stdio caller whose token expired keeps receiving resource updates (expired credential acted for)', async () => {
    // The token lives 12 s (time to start warden on a loaded machine), accepted not a second longer
    // (clock tolerance 0); the agent sends nothing more.
    const w = await subscribingAgent(policy(), {}, { ttlSeconds: 12, clockTolerance: 0 });
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
    const ended = await waitForRecord(w.env.auditFile, (r) => r.type === 'subscription.ended', 20_000);
    expect(ended).toMatchObject({ reason: 'token_expired', ended: true, upstream: 'acme', uri: README, principal: { user: 'alice', actor: 'agent-7' } });
    expect(matchShape(ended)).toEqual({ ok: true, shape: 'token expired' });
    await until(() => w.unsubscribedUpstream().includes(README));
    expect(await w.updatesOverASecond(README)).toBe(0);
    // A fresh token does not bring it back: the agent subscribes again, judged.
    writeFileSync(w.tokenFile, await w.env.mint({ user: 'alice', actor: 'agent-7' }));
    expect(await w.updatesOverASecond(README)).toBe(0);
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
    expect(w.ended()).toHaveLength(1);
  }, 40_000);

  it('a stdio caller whose token file was renewed before the old token expired keeps its subscription without sending anything', async () => {
    const mintedBy = Date.now();
    const w = await subscribingAgent(policy(), {}, { ttlSeconds: 12, clockTolerance: 0 });
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
    // Renewed beside the agent, as a token helper does; warden learns of it only from the file.
    writeFileSync(w.tokenFile, await w.env.mint({ user: 'alice', actor: 'agent-7' }));
    // Past the first token's exp (minted after mintedBy, and exp is in whole seconds).
    await until(() => Date.now() > mintedBy + 14_000, 20_000);
    await w.flowing(README);
    expect(w.ended()).toEqual([]);
    expect(w.unsubscribedUpstream()).toEqual([]);
  }, 40_000);

  it('an HTTP session whose token expired keeps receiving resource updates on its stream (expired credential acted for)', async () => {
    const env = await identityEnv('warden-e2e-standing-http-');
    const policyFile = join(env.dir, 'policy.yaml');
    const upstreamLog = join(env.dir, 'acme-requests.jsonl');
    writeFileSync(policyFile, policy());
    writeFileSync(upstreamLog, '');
    const identity = env.identity();
    identity.issuers = (identity.issuers as Array<Record<string, unknown>>).map((i) => ({ ...i, clockTolerance: 0 }));
    const http = await startHttpWarden(env.dir, env.config({ identity, policy: { files: [policyFile], watch: false } }, { ACME_READ_LOG: upstreamLog, ACME_UPDATES_EVERY_MS: '100' }));
    closers.push(() => http.stop());
    const updates: string[] = [];
    const agent = await http.connect(await env.mint({ user: 'alice', actor: 'agent-7', ttlSeconds: 12 }), {
      setup: (c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri)),
    });
    closers.push(() => agent.close());
    await agent.client.subscribeResource({ uri: README });
    await until(() => updates.length >= 2, 5_000);

    // The agent presents no fresh token: once its token is past exp, warden no longer acts for it.
    const ended = await waitForRecord(env.auditFile, (r) => r.type === 'subscription.ended', 20_000);
    expect(ended).toMatchObject({ reason: 'token_expired', ended: true, upstream: 'acme', uri: README, principal: { user: 'alice' } });
    await until(() => completeJsonLines<Logged>(upstreamLog).some((r) => r.unsubscribe === README));
    await new Promise((r) => setTimeout(r, 300));
    const before = updates.length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(updates.length).toBe(before);
  }, 40_000);

  it('a subscribe the upstream refused is sent again by warden on its own after an upstream restart (subscription the agent never obtained)', async () => {
    const w = await subscribingAgent(policy(), { ACME_REFUSE_SUBSCRIBE: 'notes' });
    await w.agent.client.subscribeResource({ uri: README });
    await expect(w.agent.client.subscribeResource({ uri: NOTES })).rejects.toMatchObject({ code: -32602 });
    await w.flowing(README);
    await w.restartUpstream();
    await until(() => w.subscribedUpstream().length >= 3, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    // Only what the upstream took is re-sent: the refused one was never the agent's.
    expect(w.subscribedUpstream()).toEqual([README, NOTES, README]);
    await w.flowing(README);
    expect(w.ended()).toEqual([]);
  }, 30_000);

  it('after an upstream restart, subscriptions still allowed are re-sent and their updates flow again', async () => {
    const w = await subscribingAgent(policy());
    await w.agent.client.subscribeResource({ uri: README });
    await w.flowing(README);
    await w.restartUpstream();
    await until(() => w.subscribedUpstream().length === 2, 5_000);
    await w.flowing(README);
    expect(w.ended()).toEqual([]);
  }, 30_000);
});
