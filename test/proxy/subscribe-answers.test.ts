import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/progress.js';
import { RPC } from '../../src/proxy/json-rpc.js';

/**
 * A subscription is held once its upstream answered success (subscribe-attempt.ts). One whose
 * answer never comes (timed out, cancelled by the agent) may still have been taken upstream:
 * warden unsubscribes it there, so nothing runs that warden does not know of.
 */
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

async function silentUpstream() {
  const log = join(mkdtempSync(join(tmpdir(), 'warden-subscribe-answers-')), 'requests.jsonl');
  const a = await rawAgent({
    upstreams: { silent: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/uri-claim-server.mjs')], env: { SERVER_NAME: 'silent', SUBSCRIBE_SILENT: '1', REQUEST_LOG: log } } },
    timeouts: { requestMs: 500 },
  });
  closers.push(a.close);
  expect(await a.init()).toHaveProperty('result');
  const requests = (): Array<{ method: string; uri: string }> =>
    existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; uri: string }) : [];
  return { a, requests };
}

describe('a subscribe whose answer never came', () => {
  it('is unsubscribed upstream when it timed out (subscription left running that warden does not hold)', async () => {
    const { a, requests } = await silentUpstream();
    const answer = await a.request('resources/subscribe', { uri: 'test://doc' });
    expect((answer.error as { code: number }).code).toBe(RPC.requestTimeout);
    await waitFor(() => (requests().length >= 2 ? true : undefined), 'the unsubscribe');
    expect(requests()).toEqual([{ method: 'resources/subscribe', uri: 'test://doc' }, { method: 'resources/unsubscribe', uri: 'test://doc' }]);
  });

  it('is unsubscribed upstream when the agent cancelled it', async () => {
    const { a, requests } = await silentUpstream();
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 'sub', method: 'resources/subscribe', params: { uri: 'test://doc' } }));
    await waitFor(() => (requests().length >= 1 ? true : undefined), 'the subscribe upstream');
    a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'sub', reason: 'changed my mind' } }));
    await waitFor(() => (requests().length >= 2 ? true : undefined), 'the unsubscribe');
    expect(requests()).toEqual([{ method: 'resources/subscribe', uri: 'test://doc' }, { method: 'resources/unsubscribe', uri: 'test://doc' }]);
    expect(await a.alive()).toBe(true);
  });
});
