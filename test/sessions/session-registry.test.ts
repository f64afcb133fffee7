import { describe, expect, it } from 'vitest';
import { SessionRegistry, sessionsTracked } from '../../src/sessions/session-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryAudit } from '../events/set-helpers.js';
import { principal } from '../events/set-helpers.js';

const info = (id: string, openedAt: number) => ({ sessionId: id, principal: principal(), transport: 'http' as const, remoteAddress: '127.0.0.1', userAgent: 'ua', openedAt });

describe('SessionRegistry', () => {
  it('tracks opened sessions, call counts, last/max risk and age', () => {
    const r = new SessionRegistry();
    r.opened(info('s1', 1000));
    r.recordCall('s1', 40, 'allow', 1500);
    r.recordCall('s1', 90, 'block', 1600);
    r.recordCall('s1', 10, 'throttle', 1700);
    r.recordCall('unknown', 99, 'block'); // ignored, never creates a session
    const [v] = r.views(61_000);
    expect(v).toMatchObject({ sessionId: 's1', user: 'alice', actor: 'agent-7', ageMs: 60_000, lastCallAt: 1700, risk: { last: 10, max: 90 } });
    expect(v?.calls).toEqual({ total: 3, allow: 1, throttle: 1, approve: 0, block: 1 });
    expect(r.size).toBe(1);
  });

  it('forgets closed sessions', () => {
    const r = new SessionRegistry();
    r.opened(info('s1', 1));
    r.closed('s1');
    expect(r.views(2)).toEqual([]);
    expect(r.get('s1')).toBeUndefined();
  });

  it('is bounded: a flood of sessions evicts the oldest', () => {
    const r = new SessionRegistry({ maxSessions: 3 });
    for (let i = 0; i < 10; i++) r.opened(info(`s${i}`, i));
    expect(r.list().map((s) => s.sessionId)).toEqual(['s7', 's8', 's9']);
  });
});

describe('SessionRegistry sized for the listener', () => {
  it('a revocation finds the revoked user\'s session among more open sessions than the default bound (listen.http.maxSessions: 12000)', async () => {
    const sessions = new SessionRegistry({ maxSessions: sessionsTracked({ stdio: false, http: { maxSessions: 12_000 } }) });
    sessions.opened({ ...info('victim', 0), principal: principal({ user: 'mallory' }) });
    for (let i = 1; i < 12_000; i++) sessions.opened(info(`s${i}`, i));
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => 2_000_000, sessions });
    const revoked = await registry.revokeManually({ user: 'mallory' }, 'admin:test');
    expect(revoked.sessionIds).toEqual(['victim']);
  });

  it('keeps the default bound for smaller listeners, and counts the stdio session', () => {
    expect(sessionsTracked({ stdio: true })).toBe(10_000);
    expect(sessionsTracked({ stdio: true, http: { maxSessions: 64 } })).toBe(10_000);
    expect(sessionsTracked({ stdio: true, http: { maxSessions: 20_000 } })).toBe(20_001);
  });
});

describe('renderTable', () => {
  it('cannot be forged by control characters in untrusted names', async () => {
    const { renderTable } = await import('../../src/sessions/render-table.js');
    const out = renderTable(['USER'], [['mallory\nsess-x  admin'], ['eve\u001b[2J'], ['bob\u202Eevil']]);
    expect(out.split('\n')).toHaveLength(5); // header + 3 rows + trailing newline
    expect(out).toContain('mallory\\nsess-x');
    expect(out).toContain('eve\\u{1B}[2J');
    expect(out).toContain('bob\\u{202E}evil');
  });
});
