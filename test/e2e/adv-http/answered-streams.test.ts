import { describe, expect, it } from 'vitest';
import { flakyBehindWarden } from '../../helpers/http-notify-upstream.js';
import { openHttpSession } from '../../helpers/hostile-http.js';
import { until } from '../../helpers/progress.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';

/**
 * An HTTP upstream (its own process) answers each tools/list on an event stream and never ends
 * that stream, though the spec asks it to once the answer is sent. Warden read each one on for
 * as long as the server kept it: one socket held per request ever sent, until warden ran out.
 */
const closers = closedAfterEach();

describe('an HTTP upstream that never ends the event stream of an answered request', () => {
  it('has each stream closed by warden once the answer arrived, not one socket kept per request (kept-open answer streams)', async () => {
    const { server, warden } = await flakyBehindWarden(closers, { FLAKY_KEEP_POST_STREAMS: '1' });
    const session = await openHttpSession(warden.url);
    const sent = 30;
    for (let i = 0; i < sent; i++) expect(await session.request('tools/list')).toEqual(expect.objectContaining({ result: { tools: [] } }));
    const kept = () => server.requests().filter((r) => (r.method as string) === 'KEPT').length;
    const closed = () => server.requests().filter((r) => (r.method as string) === 'KEPT_CLOSED').length;
    expect(kept()).toBe(sent);
    await until(() => closed() === sent);
    // Other requests of the session are unaffected.
    expect(await session.request('resources/list')).toHaveProperty('result');
  }, 30_000);

  it('has each stream closed by warden once it gave up on the request, not one socket kept per unanswered request (silent answer streams)', async () => {
    const { server, warden } = await flakyBehindWarden(closers, { FLAKY_SILENT_POST_STREAMS: '1' }, { timeouts: { requestMs: 300 } });
    const session = await openHttpSession(warden.url);
    const sent = 10;
    for (let i = 0; i < sent; i++) expect(await session.request('tools/list')).toEqual(expect.objectContaining({ error: expect.objectContaining({ code: -32001 }) }));
    const closed = () => server.requests().filter((r) => (r.method as string) === 'KEPT_CLOSED').length;
    await until(() => closed() === sent);
  }, 30_000);

  it('has each stream closed by warden when its headers come only after warden gave up on the request (late answer streams)', async () => {
    // The request's timeout passes while the POST still waits for its headers: the stream the
    // upstream then opens (and never ends) has to be closed all the same, not held for good.
    const { server, warden } = await flakyBehindWarden(closers, { FLAKY_LATE_POST_STREAMS: '600' }, { timeouts: { requestMs: 200 } });
    const session = await openHttpSession(warden.url);
    const sent = 5;
    for (let i = 0; i < sent; i++) expect(await session.request('tools/list')).toEqual(expect.objectContaining({ error: expect.objectContaining({ code: -32001 }) }));
    const closed = () => server.requests().filter((r) => (r.method as string) === 'KEPT_CLOSED').length;
    await until(() => closed() === sent);
  }, 30_000);
});
