import { describe, expect, it } from 'vitest';
import type { Guard, StandingSubscription } from '../../src/core/tool-call.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ProxySession } from '../../src/proxy/proxy-session.js';
import { endRevokedSubscriptions, recheckSubscriptions, relayUpdate, RECHECK_BATCH, subscriptionKey, type HeldSubscription } from '../../src/proxy/standing-subscriptions.js';
import { SubscribeAttempt } from '../../src/proxy/subscribe-attempt.js';
import type { UpstreamConnection } from '../../src/proxy/upstream-connection.js';
import { principal } from '../helpers/policy-helpers.js';

/**
 * recheckSubscriptions against a session reduced to what it reads (its subscriptions, caller,
 * options and upstream connections); the guard's re-check is the test's. Real sessions and
 * processes: test/e2e/events/subscriptions-follow-risk.test.ts.
 */
function sessionWith(subscriptions: readonly HeldSubscription[], recheck: NonNullable<Guard['recheckSubscription']>) {
  const sent: Array<{ upstream: string; method: string; uri: unknown }> = [];
  const connection = (name: string): UpstreamConnection => ({
    name,
    request: (method: string, params: Record<string, unknown>) => {
      sent.push({ upstream: name, method, uri: params.uri });
      return 1;
    },
  }) as unknown as UpstreamConnection;
  const session = {
    id: 's1',
    principal: principal(),
    info: undefined,
    clientInfo: undefined,
    subscriptions: new Map(subscriptions.map((sub) => [subscriptionKey(sub.upstream, sub.uri), sub])),
    subscribing: new Set(),
    isClosed: false,
    connection,
    safely: (f: () => void) => f(),
    opts: {
      guard: { recheckSubscription: recheck },
      channel: { transport: 'stdio' },
      remoteAddress: undefined,
      userAgent: undefined,
      timeouts: { requestMs: 1_000 },
      logger: silentLogger(),
    },
  } as unknown as ProxySession;
  return { session, sent, connection };
}

const held = (upstream: string, uri: string): HeldSubscription => ({ upstream, uri, judgedUnder: 'sha256:p1' });

describe('recheckSubscriptions', () => {
  it('a flood of standing subscriptions does not hold the event loop while a reload re-checks them', async () => {
    const uris = Array.from({ length: 20 * RECHECK_BATCH }, (_, i) => held('acme', `acme://files/${i}`));
    let judged = 0;
    // Answers at once, as the in-memory store does: only microtasks between re-checks.
    const { session } = sessionWith(uris, async () => {
      judged++;
      return 'keep';
    });
    let judgedWhenOtherWorkRan: number | undefined;
    setImmediate(() => void (judgedWhenOtherWorkRan = judged));
    const kept = await recheckSubscriptions(session, 'policy_reload');
    expect(kept).toHaveLength(uris.length);
    expect(judgedWhenOtherWorkRan).toBeGreaterThan(0);
    expect(judgedWhenOtherWorkRan).toBeLessThan(uris.length);
  });

  it('a subscription the agent moved to another upstream while a restart re-checked it is not re-sent to the restarted one (stray subscription warden cannot end)', async () => {
    const uris = [held('acme', 'acme://files/a'), held('acme', 'acme://files/b')];
    const { session } = sessionWith(uris, async (sub: StandingSubscription) => {
      // Meanwhile the agent unsubscribed acme://files/a and subscribed it again, now routed to 'mirror'.
      if (sub.uri === 'acme://files/a') {
        session.subscriptions.delete(subscriptionKey('acme', sub.uri));
        session.subscriptions.set(subscriptionKey('mirror', sub.uri), held('mirror', sub.uri));
      }
      return 'keep';
    });
    expect(await recheckSubscriptions(session, 'upstream_restart', { name: 'acme' } as UpstreamConnection)).toEqual(['acme://files/b']);
  });

  it('a subscription that ended while earlier batches were re-checked is not judged again (no second subscription.ended for what warden no longer holds)', async () => {
    const uris = Array.from({ length: RECHECK_BATCH + 1 }, (_, i) => held('acme', `acme://files/${i}`));
    const last = `acme://files/${RECHECK_BATCH}`;
    const judged: string[] = [];
    const { session } = sessionWith(uris, async (sub: StandingSubscription) => {
      judged.push(sub.uri);
      return 'end';
    });
    // Between the batches a revocation ends the last one (and audits it): the re-check leaves it alone.
    setImmediate(() => void session.subscriptions.delete(subscriptionKey('acme', last)));
    expect(await recheckSubscriptions(session, 'policy_reload')).toEqual([]);
    expect(judged).toHaveLength(RECHECK_BATCH);
    expect(judged).not.toContain(last);
  });

  it('a reload re-check of a caller whose token expired ends its subscriptions as token_expired, whatever the policy says (expired credential acted for)', async () => {
    const judged: string[] = [];
    const { session, sent } = sessionWith([held('acme', 'acme://files/a')], async (sub: StandingSubscription) => {
      judged.push(sub.uri);
      return 'keep';
    });
    const expired: StandingSubscription[] = [];
    Object.assign(session, { principal: principal({ expiresAt: Math.floor(Date.now() / 1000) - 5 }) });
    Object.assign(session.opts.guard, { tokenValid: () => false, subscriptionExpired: (sub: StandingSubscription) => void expired.push(sub) });
    expect(await recheckSubscriptions(session, 'policy_reload')).toEqual([]);
    expect(judged).toEqual([]);
    expect(expired.map((e) => e.uri)).toEqual(['acme://files/a']);
    expect(sent).toEqual([{ upstream: 'acme', method: 'resources/unsubscribe', uri: 'acme://files/a' }]);
    expect(session.subscriptions.size).toBe(0);
  });

  it('a re-check whose token check throws ends the subscription (fail closed)', async () => {
    const { session } = sessionWith([held('acme', 'acme://files/a')], async () => 'keep');
    Object.assign(session.opts.guard, { tokenValid: () => { throw new Error('clock broke'); } });
    expect(await recheckSubscriptions(session, 'policy_reload')).toEqual([]);
    expect(session.subscriptions.size).toBe(0);
  });
});

/**
 * A subscription is held once its upstream answered success; a reload, a security event or a
 * revocation that came while the subscribe was at the upstream found nothing held to re-judge or
 * end. Taken afterwards, it stood on the judgement made before them.
 */
describe('a subscribe still at the upstream when its standing changed', () => {
  it('is re-judged once the upstream took it, when a reload came meanwhile (subscription slipping past a reload)', async () => {
    const judged: string[] = [];
    const { session, sent } = sessionWith([], async (sub: StandingSubscription) => {
      judged.push(sub.uri);
      return 'end';
    });
    const attempt = new SubscribeAttempt(session, 'acme', 'acme://files/a');
    attempt.forwarded('sha256:p1');
    expect(await recheckSubscriptions(session, 'policy_reload')).toEqual([]);
    attempt.answered('ok');
    await new Promise((resolve) => setImmediate(resolve));
    expect(judged).toEqual(['acme://files/a']);
    expect(session.subscriptions.size).toBe(0);
    expect(sent).toEqual([{ upstream: 'acme', method: 'resources/unsubscribe', uri: 'acme://files/a' }]);
  });

  it('is kept when the re-judgement allows it', async () => {
    const { session, sent } = sessionWith([], async () => 'keep');
    const attempt = new SubscribeAttempt(session, 'acme', 'acme://files/a');
    attempt.forwarded('sha256:p1');
    await recheckSubscriptions(session, 'security_event');
    attempt.answered('ok');
    await new Promise((resolve) => setImmediate(resolve));
    expect([...session.subscriptions.values()].map((s) => s.uri)).toEqual(['acme://files/a']);
    expect(sent).toEqual([]);
  });

  it('is not held, and is unsubscribed upstream, when its caller was revoked meanwhile (subscription outliving a revocation)', async () => {
    const { session, sent } = sessionWith([], async () => 'keep');
    const ended: Array<{ uri: string; eventId: string }> = [];
    Object.assign(session.opts.guard, { subscriptionEnded: (sub: StandingSubscription, eventId: string) => void ended.push({ uri: sub.uri, eventId }) });
    const attempt = new SubscribeAttempt(session, 'acme', 'acme://files/a');
    attempt.forwarded('sha256:p1');
    endRevokedSubscriptions(session, 'evt-1');
    attempt.answered('ok');
    expect(session.subscriptions.size).toBe(0);
    expect(sent).toEqual([{ upstream: 'acme', method: 'resources/unsubscribe', uri: 'acme://files/a' }]);
    expect(ended).toEqual([{ uri: 'acme://files/a', eventId: 'evt-1' }]);
  });
});

/**
 * An update for a caller whose token expired waits for the token in force now (stdio: the token
 * file) to be read and verified. An upstream that floods updates in that moment had each of them
 * read and verify the token file again, and audit identity.failed again: thousands of each.
 */
describe('relayUpdate for a caller whose token expired', () => {
  it('checks the token in force once for a flood of updates (update flood multiplying token checks)', async () => {
    const { session, sent, connection } = sessionWith([held('acme', 'acme://files/a')], async () => 'keep');
    let checks = 0;
    const expired: string[] = [];
    Object.assign(session, {
      principal: principal({ expiresAt: Math.floor(Date.now() / 1000) - 5 }),
      currentStdioPrincipal: () => {
        checks++;
        return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5));
      },
      toAgent: () => {
        throw new Error('an update reached the agent of an expired caller');
      },
    });
    Object.assign(session.opts.guard, { tokenValid: () => false, subscriptionExpired: (sub: StandingSubscription) => void expired.push(sub.uri) });
    const update = { jsonrpc: '2.0' as const, method: 'notifications/resources/updated', params: { uri: 'acme://files/a' } };
    for (let i = 0; i < 1_000; i++) relayUpdate(session, connection('acme'), update);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(checks).toBe(1);
    expect(expired).toEqual(['acme://files/a']);
    expect(sent).toEqual([{ upstream: 'acme', method: 'resources/unsubscribe', uri: 'acme://files/a' }]);
  });
});
