import type { Principal } from '../core/principal.js';
import { renewalStands } from '../core/token-renewal.js';
import type { StandingOccasion, StandingSubscription } from '../core/tool-call.js';
import type { RpcNotification } from './json-rpc.js';
import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** A subscription a session holds: the upstream that holds it, its URI, and the policy it was judged under. */
export interface HeldSubscription {
  readonly upstream: string;
  readonly uri: string;
  readonly judgedUnder: string | undefined;
}

/**
 * Where a session keeps a subscription: by upstream and URI. A URI routes to one upstream at a
 * time, but the route can move (the upstream that claimed it evicts it from its listing, another
 * upstream's template claims it now): keyed by URI alone, subscribing it again at the new upstream
 * overwrote the old one, which went on running at the old upstream, where warden never ended it
 * (not on the agent's unsubscribe, a revocation, a reload) nor restored it.
 */
export function subscriptionKey(upstream: string, uri: string): string {
  return JSON.stringify([upstream, uri]);
}

function keyOf(sub: HeldSubscription): string {
  return subscriptionKey(sub.upstream, sub.uri);
}

/**
 * Standing resource subscriptions follow risk changes. A subscription is judged when the agent
 * makes it; from then on warden acts for it without being asked (relays the upstream's updates,
 * re-sends it to a restarted upstream). When the caller is revoked, or a reload or a restart finds
 * that the policy no longer allows it, warden ends it: the upstream is sent `resources/unsubscribe`,
 * the session forgets it (it is never restored, and its updates are no longer relayed), and the
 * guard audits it (`subscription.ended`). The agent is not told (MCP has no message for it): it
 * finds out by subscribing again, which is judged as any request.
 */

/**
 * Ends one subscription: forgotten first (its updates stop at once), then unsubscribed upstream.
 * One no longer held (the agent unsubscribed, or subscribed again and was judged afresh, while it
 * was re-checked) is left alone. Never throws.
 */
export function endSubscription(session: ProxySession, held: HeldSubscription): void {
  const key = keyOf(held);
  if (session.subscriptions.get(key) !== held) return;
  session.subscriptions.delete(key);
  const uri = held.uri;
  const upstream = session.connection(held.upstream);
  if (upstream === undefined) return;
  try {
    // The answer does not matter: the session no longer relays the URI's updates either way.
    upstream.request('resources/unsubscribe', { uri }, session.opts.timeouts.requestMs, ignore);
  } catch (err) {
    session.opts.logger.warn({ upstream: held.upstream, err: String(err) }, 'resources/unsubscribe could not be sent');
  }
}

/** The caller was revoked (event `eventId`): every subscription of the session ends. Returns how many. */
export function endRevokedSubscriptions(session: ProxySession, eventId: string): number {
  // A subscribe still at its upstream is not held yet: it must not be held once taken either.
  for (const attempt of session.subscribing) attempt.revoked(eventId);
  const held = [...session.subscriptions.values()];
  for (const sub of held) {
    endSubscription(session, sub);
    const standing = standingOf(session, sub);
    if (standing) session.safely(() => session.opts.guard.subscriptionEnded?.(standing, eventId));
  }
  return held.length;
}

/**
 * Re-checks judged together before warden turns to other work. The in-memory store answers
 * within microtasks, so re-checks queued all at once ran as one block: a reload with a few
 * thousand subscriptions held (64 sessions of up to MAX_SUBSCRIPTIONS each) stopped every
 * session's calls, reads and streams for seconds. A batch takes a few milliseconds.
 */
export const RECHECK_BATCH = 32;

/**
 * Re-judges the session's subscriptions (those `upstream` holds, or all) and ends the ones the
 * guard says end; resolves with the URIs still standing. A re-check that fails ends its subscription
 * (fail closed). Never rejects. Runs in batches of RECHECK_BATCH with other work between them: one
 * not yet re-checked stands meanwhile, as it did before the reload or restart, and one the agent
 * unsubscribed or replaced meanwhile is left alone (endSubscription).
 */
export async function recheckSubscriptions(session: ProxySession, occasion: StandingOccasion, upstream?: UpstreamConnection): Promise<string[]> {
  const kept: HeldSubscription[] = [];
  const ofUpstream = (sub: HeldSubscription): boolean => upstream === undefined || sub.upstream === upstream.name;
  // A subscribe still at its upstream is not held yet, so not judged here: it is once taken.
  for (const attempt of session.subscribing) if (upstream === undefined || attempt.upstream === upstream.name) attempt.rejudge(occasion);
  // A caller whose token expired holds nothing any more, whatever the policy says now.
  if (!(await holderValid(session))) {
    endExpiredSubscriptions(session, ofUpstream);
    return [];
  }
  const held = [...session.subscriptions.values()].filter(ofUpstream);
  for (let i = 0; i < held.length; i += RECHECK_BATCH) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await Promise.all(held.slice(i, i + RECHECK_BATCH).map(async (sub) => {
      // Gone between batches (the agent unsubscribed, a revocation ended it): not judged, so the
      // guard records no second `subscription.ended` for what warden no longer holds.
      if (session.subscriptions.get(keyOf(sub)) !== sub) return;
      if ((await verdictOn(session, sub, occasion)) === 'keep') kept.push(sub);
      else endSubscription(session, sub);
    }));
  }
  // One the agent unsubscribed (or that ended otherwise) meanwhile is not standing any more; one
  // it subscribed again meanwhile is a new subscription, sent by the agent itself, perhaps to
  // another upstream: re-sent here, it went to an upstream the agent no longer holds it at, where
  // warden would never end it (a revocation's unsubscribe goes where the session holds it).
  return kept.flatMap((sub) => (session.subscriptions.get(keyOf(sub)) === sub ? [sub.uri] : []));
}

/**
 * A subscription its upstream took after its standing was re-judged (`occasion`) while the
 * subscribe was at the upstream: judged now as the held ones were then (an expired caller's ends).
 * Never rejects.
 */
export async function recheckTaken(session: ProxySession, sub: HeldSubscription, occasion: StandingOccasion): Promise<void> {
  try {
    if (!(await holderValid(session))) {
      endExpiredSubscriptions(session, (s) => s === sub);
      return;
    }
    if (session.subscriptions.get(keyOf(sub)) !== sub) return;
    if ((await verdictOn(session, sub, occasion)) === 'end') endSubscription(session, sub);
  } catch (err) {
    session.opts.logger.error({ upstream: sub.upstream, err: String(err) }, 're-judging a subscription taken after a re-check failed; ended');
    endSubscription(session, sub);
  }
}

/** A subscription its upstream took after its caller was revoked (`eventId`): ended at once, audited as revoked. */
export function endRevokedTaken(session: ProxySession, sub: HeldSubscription, eventId: string): void {
  endSubscription(session, sub);
  const standing = standingOf(session, sub);
  if (standing) session.safely(() => session.opts.guard.subscriptionEnded?.(standing, eventId));
}

async function verdictOn(session: ProxySession, sub: HeldSubscription, occasion: StandingOccasion): Promise<'keep' | 'end'> {
  const recheck = session.opts.guard.recheckSubscription;
  const standing = standingOf(session, sub);
  if (recheck === undefined) return 'keep';
  if (standing === undefined) return 'end';
  try {
    return (await recheck.call(session.opts.guard, standing, occasion)) === 'keep' ? 'keep' : 'end';
  } catch (err) {
    session.opts.logger.error({ upstream: sub.upstream, err: String(err) }, 'standing subscription could not be re-checked: it ends');
    return 'end';
  }
}

/** What the guard judges; undefined for a session with no caller (never opened: it holds none). */
function standingOf(session: ProxySession, sub: HeldSubscription): StandingSubscription | undefined {
  const principal = session.principal ?? session.info?.principal;
  if (principal === undefined) return undefined;
  const opts = session.opts;
  return {
    sessionId: session.id, principal, upstream: sub.upstream, uri: sub.uri, judgedUnder: sub.judgedUnder,
    transport: opts.channel.transport, remoteAddress: opts.remoteAddress, userAgent: opts.userAgent, clientInfo: session.clientInfo,
  };
}

/**
 * Whether an upstream's `notifications/resources/updated` may reach the agent: only for a URI the
 * session holds a subscription for at that upstream. The spec lets a server send updates only for
 * subscribed resources; one it sends unasked, for a subscription warden ended (an upstream that
 * ignores the unsubscribe) or for a URI subscribed at another upstream, is dropped (fail closed).
 */
export function updateWanted(session: ProxySession, upstream: UpstreamConnection, params: Record<string, unknown> | undefined): boolean {
  const uri = params?.uri;
  return typeof uri === 'string' && session.subscriptions.has(subscriptionKey(upstream.name, uri));
}

/**
 * Relays an upstream's `notifications/resources/updated` to the agent if the session wants it
 * (updateWanted) and its caller's token is still accepted now. Relaying an update is acting for the
 * caller; a token past its `exp` (plus the issuer's clock tolerance) may not be acted for: a stdio
 * agent whose token file holds an expired token, or an HTTP session whose agent stopped presenting
 * fresh tokens, kept receiving updates. Then every subscription of the session ends (token_expired),
 * unless a renewed token stands in (stdio: the token file now holds a valid one for the same caller);
 * the update waits for that check.
 */
export function relayUpdate(session: ProxySession, upstream: UpstreamConnection, update: RpcNotification): void {
  if (!updateWanted(session, upstream, update.params)) return;
  if (tokenValidNow(session, holderOf(session))) {
    session.toAgent(update);
    return;
  }
  void holderCheck(session).then((valid) => {
    if (!valid) endExpiredSubscriptions(session, () => true);
    else if (updateWanted(session, upstream, update.params)) session.toAgent(update);
  });
}

/**
 * One holderValid per session at a time: updates arriving while it runs wait for the same answer
 * (in the order they came). An upstream flooding updates just after the caller's token expired
 * had each read and verify the token file again, and audit identity.failed again.
 */
const holderChecks = new WeakMap<ProxySession, Promise<boolean>>();

function holderCheck(session: ProxySession): Promise<boolean> {
  let check = holderChecks.get(session);
  if (check === undefined) {
    check = holderValid(session).finally(() => holderChecks.delete(session));
    holderChecks.set(session, check);
  }
  return check;
}

/**
 * Whether the session's caller may still be acted for: its token is accepted now; over stdio, once
 * the one it presented last is not, the token in force now (the token file, refreshed beside the
 * agent) stands in if it is valid, in standing and the same caller's (renewalStands, as for a
 * call that waited). A check that cannot be made says no (fail closed). Never rejects.
 */
async function holderValid(session: ProxySession): Promise<boolean> {
  const presented = holderOf(session);
  if (presented === undefined) return false;
  if (tokenValidNow(session, presented)) return true;
  const current = session.currentStdioPrincipal;
  if (current === undefined) return false;
  try {
    const renewed = await current();
    if (!renewalStands(presented, renewed, (p) => tokenValidNow(session, p), (p) => session.opts.guard.requestStanding?.(p, session.id) === undefined)) return false;
    session.principal = renewed;
    return true;
  } catch {
    return false;
  }
}

function holderOf(session: ProxySession): Principal | undefined {
  return session.principal ?? session.info?.principal;
}

/** The guard's answer (exp plus the issuer's clock tolerance); without one, `exp` against this clock. A throw says no. */
function tokenValidNow(session: ProxySession, principal: Principal | undefined): boolean {
  if (principal === undefined) return false;
  const guard = session.opts.guard;
  try {
    if (guard.tokenValid) return guard.tokenValid(principal);
    // `<` is false for NaN: an expiry that cannot be compared is not valid.
    return principal.expiresAt === undefined || Date.now() < principal.expiresAt * 1000;
  } catch {
    return false;
  }
}

/** Over stdio the token in force was refused as expired before a restore: what `upstream` held ends (not restored). */
export function endExpiredAt(session: ProxySession, upstream: UpstreamConnection): void {
  endExpiredSubscriptions(session, (sub) => sub.upstream === upstream.name);
}

/** The caller's token expired: the session's subscriptions (those `which` picks) end, each audited. */
function endExpiredSubscriptions(session: ProxySession, which: (sub: HeldSubscription) => boolean): void {
  for (const sub of [...session.subscriptions.values()]) {
    if (!which(sub) || session.subscriptions.get(keyOf(sub)) !== sub) continue;
    endSubscription(session, sub);
    const standing = standingOf(session, sub);
    const guard = session.opts.guard;
    if (standing) session.safely(() => guard.subscriptionExpired?.(standing));
  }
}

function ignore(): void {
  // the answer to a request warden sent on its own (see endSubscription)
}
