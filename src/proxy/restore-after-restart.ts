import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';
import { restoreAfterStdioCheck } from './stdio-request-check.js';
import { endExpiredAt, recheckSubscriptions } from './standing-subscriptions.js';

/**
 * After an upstream came back (a crashed child restarted, a lost HTTP session renewed), puts back
 * what the session had told the old one and what the agent must learn about the new one.
 */
export function restoreAfterRestart(session: ProxySession, upstream: UpstreamConnection): void {
  // Over stdio only for a caller authenticated and not revoked now (a revocation does not close a
  // stdio session); an HTTP session of a revoked caller is closed, and each POST carries its token.
  // A revoked stdio caller's subscriptions end (the re-check finds the revocation) rather than
  // waiting for a restore: a later, valid token does not bring them back. So do an expired one's
  // (token_expired), as its updates would have stopped: the upstream no longer holds them.
  if (session.opts.channel.transport === 'http') restoreTold(session, upstream);
  else {
    restoreAfterStdioCheck(session, upstream.name, () => restoreTold(session, upstream), (reason) => {
      if (reason === 'token_revoked') void recheckSubscriptions(session, 'upstream_restart', upstream);
      else if (reason === 'token_expired') endExpiredAt(session, upstream);
    });
  }
  // The restarted server may list different things. Forget what the old one listed: the next
  // call re-lists it, so a tool it dropped gets warden's unknown-tool answer and changed
  // definitions reach the guard (pins) before any call runs against them.
  session.toolDefinitions.delete(upstream.name);
  // Nor is the new process's listing compared with the old one's: calls judged before the restart
  // are refused by its generation already, and the first listing after it is a fresh start.
  upstream.definitionChanges.forget();
  // Ask the agent to re-list where it can.
  const caps = upstream.capabilities;
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    const cap = caps[kind] as { listChanged?: boolean } | undefined;
    if (cap?.listChanged) session.toAgent({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
  }
}

/** The agent set a logging level and subscribed before the crash: the new process must know. */
function restoreTold(session: ProxySession, upstream: UpstreamConnection): void {
  const timeout = session.opts.timeouts.requestMs;
  if (session.logLevel && upstream.capabilities.logging !== undefined) upstream.request('logging/setLevel', session.logLevel, timeout, ignore);
  void resubscribe(session, upstream);
}

/**
 * Each subscription the upstream held is re-judged before it is sent again (a re-send is a request
 * warden makes for the agent, and risk may have changed since it was judged: a reload whose
 * re-check it escaped, the caller's rates, a step-up): only those still allowed are re-sent; the
 * others end, audited (standing-subscriptions.ts). The re-check counts nothing against the agent
 * and asks nobody: an approved subscription under the policy it was approved by stands.
 */
async function resubscribe(session: ProxySession, upstream: UpstreamConnection): Promise<void> {
  const generation = upstream.generation;
  const kept = await recheckSubscriptions(session, 'upstream_restart', upstream);
  // Restarted again meanwhile: that restart restores them. A closed session restores nothing.
  if (upstream.generation !== generation || session.isClosed) return;
  const timeout = session.opts.timeouts.requestMs;
  for (const uri of kept) upstream.request('resources/subscribe', { uri }, timeout, ignore);
}

function ignore(): void {
  // answers to what warden re-sends on its own are not the agent's
}
