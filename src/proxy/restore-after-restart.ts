import type { ProxySession } from './proxy-session.js';
import type { UpstreamConnection } from './upstream-connection.js';
import { restoreAfterStdioCheck } from './stdio-request-check.js';

/**
 * After an upstream came back (a crashed child restarted, a lost HTTP session renewed), puts back
 * what the session had told the old one and what the agent must learn about the new one.
 */
export function restoreAfterRestart(session: ProxySession, upstream: UpstreamConnection): void {
  // Over stdio only for a caller authenticated and not revoked now (a revocation does not close a
  // stdio session); an HTTP session of a revoked caller is closed, and each POST carries its token.
  if (session.opts.channel.transport === 'http') restoreTold(session, upstream);
  else restoreAfterStdioCheck(session, upstream.name, () => restoreTold(session, upstream));
  // The restarted server may list different things. Forget what the old one listed: the next
  // call re-lists it, so a tool it dropped gets warden's unknown-tool answer and changed
  // definitions reach the guard (pins) before any call runs against them.
  session.toolDefinitions.delete(upstream.name);
  // Ask the agent to re-list where it can.
  const caps = upstream.capabilities;
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    const cap = caps[kind] as { listChanged?: boolean } | undefined;
    if (cap?.listChanged) session.toAgent({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
  }
}

/** The agent set a logging level and subscribed before the crash: the new process must know. */
function restoreTold(session: ProxySession, upstream: UpstreamConnection): void {
  const ignore = (): void => undefined;
  const timeout = session.opts.timeouts.requestMs;
  if (session.logLevel && upstream.capabilities.logging !== undefined) upstream.request('logging/setLevel', session.logLevel, timeout, ignore);
  // Restored without judging them again: each was judged (and, if asked, approved) when the agent
  // made it, and the agent asks nothing now. A new judgment would count warden's own re-sends
  // against the agent's rate, burst and novelty signals, and hold an approved subscription for a
  // human who cannot tell why it was sent. A subscription carries no data: the updates it brings
  // name a URI, and its content still comes only through a judged resources/read.
  for (const [uri, owner] of session.subscriptions) {
    if (owner === upstream.name) upstream.request('resources/subscribe', { uri }, timeout, ignore);
  }
}
