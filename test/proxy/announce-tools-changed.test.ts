import { describe, expect, it } from 'vitest';
import { announceToolsChanged } from '../../src/proxy/announce-tools-changed.js';
import type { ProxySession } from '../../src/proxy/proxy-session.js';

/** A session as announceToolsChanged sees it: state, upstream capabilities, and what it sent. */
function session(opts: { initialized?: boolean; closed?: boolean; tools?: unknown[] }): { s: ProxySession; sent: unknown[] } {
  const sent: unknown[] = [];
  const s = {
    isClosed: opts.closed ?? false,
    info: opts.initialized === false ? undefined : { sessionId: 's1' },
    connections: (opts.tools ?? [{ listChanged: true }]).map((tools) => ({ capabilities: tools === undefined ? {} : { tools } })),
    toAgent: (m: unknown) => sent.push(m) > 0,
  } as unknown as ProxySession;
  return { s, sent };
}

describe('announceToolsChanged (after a pins accept)', () => {
  it('sends notifications/tools/list_changed to an initialized session whose upstream promised it', () => {
    const { s, sent } = session({});
    expect(announceToolsChanged(s)).toBe(true);
    expect(sent).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
  });

  it('with several upstreams, one that promised it is enough (capabilities are OR-ed for the agent)', () => {
    const { s, sent } = session({ tools: [{}, { listChanged: true }] });
    expect(announceToolsChanged(s)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('sends nothing where the agent was never promised it, before initialize, or after close', () => {
    for (const spec of [{ tools: [{}] }, { tools: [undefined] }, { tools: [{ listChanged: 'yes' }] }, { initialized: false }, { closed: true }]) {
      const { s, sent } = session(spec);
      expect(announceToolsChanged(s)).toBe(false);
      expect(sent).toEqual([]);
    }
  });
});
