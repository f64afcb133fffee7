import type { ProxySession } from './proxy-session.js';

/** The lists an agent can be told to fetch again; each is also its capability's name. */
export type AnnouncedList = 'tools' | 'prompts' | 'resources';

/**
 * Tells an agent to fetch a list again (`notifications/tools/list_changed`, `prompts/...`,
 * `resources/...`; resource templates ride on the resources one), for changes warden made itself:
 * an operator accepted a held definition, so warden lists it again. Sent only to a session past
 * `initialize` whose advertised capabilities promise the notification (an upstream with
 * `tools.listChanged`, `prompts.listChanged`, `resources.listChanged`); otherwise the agent sees
 * the change at its next list request.
 */
export function announceListChanged(session: ProxySession, list: AnnouncedList = 'tools'): boolean {
  if (session.isClosed || !session.info) return false;
  const promised = session.connections.some((c) => (c.capabilities[list] as { listChanged?: unknown } | undefined)?.listChanged === true);
  return promised && session.toAgent({ jsonrpc: '2.0', method: `notifications/${list}/list_changed` });
}
