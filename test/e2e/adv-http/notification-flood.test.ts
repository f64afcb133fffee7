import { describe, expect, it } from 'vitest';
import { flakyBehindWarden } from '../../helpers/http-notify-upstream.js';
import { openHttpSession } from '../../helpers/hostile-http.js';
import { until } from '../../helpers/progress.js';
import { MAX_NOTIFICATIONS_IN_FLIGHT } from '../../../src/proxy/notification-backlog.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * An agent sends notifications without end (each answered 202 at once); warden passes each on to
 * the HTTP upstream as a POST of its own. The fixture upstream (its own process) answers a
 * notification only after 5 s, as a slow or hung server would: warden held one socket and one
 * pending fetch per notification, without bound.
 */
const closers = closedAfterEach();

const WARN = 40;

describe('an agent flooding notifications at a slow HTTP upstream', () => {
  it('has at most MAX_NOTIFICATIONS_IN_FLIGHT of them waiting at the upstream, drops the rest with a warning (notification flood), yet never leaves it on roots the agent narrowed (stale roots)', async () => {
    const { server, warden } = await flakyBehindWarden(closers, { FLAKY_NOTIFY_HOLD_MS: '5000' });
    const session = await openHttpSession(warden.url);
    const sent = 300;
    for (let i = 0; i < sent; i++) {
      expect((await session.post('{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}')).status).toBe(202);
    }
    const waitingAtUpstream = () => server.requests().filter((r) => r.method === 'NOTIFY').map((r) => r.status ?? 0);
    await until(() => waitingAtUpstream().length >= MAX_NOTIFICATIONS_IN_FLIGHT);
    await new Promise((r) => setTimeout(r, 500));
    // The agent's session's own `notifications/initialized` may be waiting too.
    expect(waitingAtUpstream().length).toBeLessThanOrEqual(MAX_NOTIFICATIONS_IN_FLIGHT + 1);
    expect(warden.logLines(WARN).map((l) => l.msg)).toContain('upstream is not taking notifications; dropping them until it catches up');
    // Requests still pass: the bound is on notifications only.
    expect(await session.request('tools/list')).toHaveProperty('result');

    // Roots changed after the upstream stopped taking notifications: it must still hear so once
    // it catches up (one stands for all dropped), or it keeps using roots the agent took away.
    const rootsChanges = () => server.requests().filter((r) => r.notification === 'notifications/roots/list_changed').length;
    const admitted = rootsChanges();
    expect(admitted).toBeLessThan(sent);
    await until(() => rootsChanges() > admitted, 15_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(rootsChanges()).toBe(admitted + 1);
    expect(warden.logLines(WARN).map((l) => l.msg)).toContain('upstream takes notifications again; some were dropped');
  }, 40_000);
});
