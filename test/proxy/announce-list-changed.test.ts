import { describe, expect, it } from 'vitest';
import { announceListChanged } from '../../src/proxy/announce-list-changed.js';
import type { ProxySession } from '../../src/proxy/proxy-session.js';

/** A session as announceListChanged sees it: state, upstream capabilities, and what it sent. */
function session(opts: { initialized?: boolean; closed?: boolean; tools?: unknown[]; capabilities?: Record<string, unknown> }): { s: ProxySession; sent: unknown[] } {
  const sent: unknown[] = [];
  const s = {
    isClosed: opts.closed ?? false,
    info: opts.initialized === false ? undefined : { sessionId: 's1' },
    connections: opts.capabilities
      ? [{ capabilities: opts.capabilities }]
      : (opts.tools ?? [{ listChanged: true }]).map((tools) => ({ capabilities: tools === undefined ? {} : { tools } })),
    toAgent: (m: unknown) => sent.push(m) > 0,
  } as unknown as ProxySession;
  return { s, sent };
}

describe('announceListChanged (after a pins accept)', () => {
  it('sends notifications/tools/list_changed to an initialized session whose upstream promised it', () => {
    const { s, sent } = session({});
    expect(announceListChanged(s)).toBe(true);
    expect(sent).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
  });

  it('with several upstreams, one that promised it is enough (capabilities are OR-ed for the agent)', () => {
    const { s, sent } = session({ tools: [{}, { listChanged: true }] });
    expect(announceListChanged(s)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('sends nothing where the agent was never promised it, before initialize, or after close', () => {
    for (const spec of [{ tools: [{}] }, { tools: [undefined] }, { tools: [{ listChanged: 'yes' }] }, { initialized: false }, { closed: true }]) {
      const { s, sent } = session(spec);
      expect(announceListChanged(s)).toBe(false);
      expect(sent).toEqual([]);
    }
  });

  it('announces prompts and resources (resource templates) by their own capability, never by another list\'s', () => {
    const { s, sent } = session({ capabilities: { prompts: { listChanged: true }, resources: {}, tools: { listChanged: true } } });
    expect(announceListChanged(s, 'prompts')).toBe(true);
    expect(announceListChanged(s, 'resources')).toBe(false);
    expect(sent).toEqual([{ jsonrpc: '2.0', method: 'notifications/prompts/list_changed' }]);
    const other = session({ capabilities: { resources: { listChanged: true } } });
    expect(announceListChanged(other.s, 'resources')).toBe(true);
    expect(other.sent).toEqual([{ jsonrpc: '2.0', method: 'notifications/resources/list_changed' }]);
  });
});
