import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/audit-sink.js';
import { matchShape } from '../../helpers/audit-field-spec.js';
import { startFlakyStreamServer, startWardenBefore, subscribedAgent } from '../../helpers/http-notify-upstream.js';
import { until } from '../../helpers/progress.js';

/**
 * The standing GET stream of an HTTP upstream carries what the server sends on its own. The SDK
 * gives up on it after two failed re-openings (and never retries a failed first opening); warden
 * then keeps re-opening it. The flaky-stream fixture server runs as its own process, warden in
 * this one (its log and audit kept), and an SDK agent subscribes to the fixture's resource
 * through it. The audit coverage test (test/e2e/audit) runs the same through `warden run`.
 */
const URI = 'flaky://status';
const WARN = 40;
const INFO = 30;
const DEBUG = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

async function setUp(env: Record<string, string>) {
  const server = await startFlakyStreamServer(env);
  closers.push(server.stop);
  const warden = await startWardenBefore(server.url);
  closers.push(warden.close);
  const agent = await subscribedAgent(warden.url, URI);
  closers.push(agent.close);
  const ofType = (type: string): AuditEvent[] => warden.audit.ofType(type).filter((r) => r.upstream === 'flaky');
  return { server, warden, agent, ofType };
}

describe('standing GET stream to an HTTP upstream', () => {
  it('re-opens a stream whose first opening the server refused (503, then 500 to warden\'s first try): a later resources/updated reaches the agent', async () => {
    const { server, warden, agent, ofType } = await setUp({ FLAKY_GET_STATUSES: '503,500' });
    await until(() => ofType('upstream.stream_restored').length === 1, 8_000);
    expect(server.gets().map((g) => g.status)).toEqual([503, 500, 200]);
    const [lost] = ofType('upstream.stream_lost');
    const [restored] = ofType('upstream.stream_restored');
    expect(lost).toMatchObject({ upstream: 'flaky', reason: expect.stringMatching(/HTTP 503/) });
    expect(restored).toMatchObject({ upstream: 'flaky', attempts: 2 });
    expect(warden.audit.events.indexOf(restored!)).toBeGreaterThan(warden.audit.events.indexOf(lost!));
    for (const r of [lost!, restored!]) expect(matchShape(r)).toMatchObject({ ok: true });
    expect(warden.logLines(WARN).map((l) => l.msg)).toEqual([expect.stringMatching(/GET stream lost/)]);
    expect(warden.logLines(INFO).filter((l) => l.level === INFO).map((l) => l.msg)).toEqual([expect.stringMatching(/GET stream re-opened/)]);

    await agent.client.callTool({ name: 'notify', arguments: { uri: URI } });
    await until(() => agent.updated.includes(URI), 5_000);
  }, 15_000);

  it('takes over once the SDK gave up re-opening a stream the server ended (three failures): notifications flow again', async () => {
    const { server, agent, ofType } = await setUp({});
    await until(() => server.gets().some((g) => g.status === 200));
    await agent.client.callTool({ name: 'drop_stream', arguments: { fail: 3 } });
    // The SDK retries twice (after about 1 s and 1.5 s), then warden: its first try fails, its second opens.
    await until(() => ofType('upstream.stream_restored').length === 1, 9_000);
    expect(server.gets().map((g) => g.status)).toEqual([200, 503, 500, 503, 200]);
    expect(ofType('upstream.stream_lost')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/HTTP 500/) })]);
    expect(ofType('upstream.stream_restored')[0]).toMatchObject({ attempts: 2 });

    await agent.client.callTool({ name: 'notify', arguments: { uri: URI } });
    await until(() => agent.updated.includes(URI), 5_000);
  }, 15_000);

  it('asks a server without a standing stream (405) once per session, never in a loop, and reports nothing', async () => {
    const { server, warden, agent, ofType } = await setUp({ FLAKY_GET_405: '1' });
    await until(() => server.gets().length === 1);
    await agent.client.listTools();
    // Longer than the SDK's first re-opening delay (1 s) and warden's first two tries (up to 1.5 s).
    await sleep(1_500);
    expect(server.gets().map((g) => g.status)).toEqual([405]);
    expect(ofType('upstream.stream_lost')).toEqual([]);
    expect(warden.logLines(WARN)).toEqual([]);
  }, 15_000);

  it('stops re-opening when the session ends: no GET after the upstream session is closed', async () => {
    const { server, warden, agent, ofType } = await setUp({ FLAKY_GET_STATUSES: Array(40).fill('503').join(',') });
    await until(() => server.gets().length >= 2, 8_000); // the first opening and warden's first try
    expect(ofType('upstream.stream_lost')).toHaveLength(1);
    await agent.close();
    await until(() => server.requests().some((r) => r.method === 'DELETE') && warden.sessions() === 0);
    // The upstream transport is closed now; a try sent just before may still be on its way.
    await sleep(300);
    const atClose = server.gets().length;
    const triesAtClose = warden.logLines(DEBUG).filter((l) => /still not open/.test(l.msg)).length;
    // Warden's next try would have come within 1 s (its delay after one failed try is 0.5–1 s).
    await sleep(1_200);
    expect(server.gets()).toHaveLength(atClose);
    // Nor a try that never reached the server (the closed transport's fetch fails at once): no timer outlived it.
    expect(warden.logLines(DEBUG).filter((l) => /still not open/.test(l.msg))).toHaveLength(triesAtClose);
  }, 15_000);
});
