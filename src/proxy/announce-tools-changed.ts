import type { ProxySession } from './proxy-session.js';

/**
 * Tells an agent to list its tools again (`notifications/tools/list_changed`), for changes warden
 * made itself (an operator accepted a held tool definition, so warden lists it again). Sent only
 * to a session past `initialize` whose advertised capabilities promise the notification (an
 * upstream with `tools.listChanged`); otherwise the agent sees the change at its next tools/list.
 */
export function announceToolsChanged(session: ProxySession): boolean {
  if (session.isClosed || !session.info) return false;
  const promised = session.connections.some((c) => (c.capabilities.tools as { listChanged?: unknown } | undefined)?.listChanged === true);
  return promised && session.toAgent({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
}
