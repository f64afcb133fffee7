import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAllowAllGuard } from '../../src/proxy/allow-all-guard.js';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/**
 * A revoked stdio token still verifies; the guard's requestStanding knows it is revoked. It is
 * asked at initialize too, so a new stdio session of a revoked token (warden restarted by the
 * agent, the revocation kept on disk) starts no upstream and gets no initialize result.
 */
describe('stdio initialize with a revoked subject', () => {
  const upstreams = { claim: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/uri-claim-server.mjs')], env: { SERVER_NAME: 'claim' } } };

  it('is refused with token_revoked and nothing is started for it', async () => {
    const guard = { ...createAllowAllGuard(), requestStanding: () => 'token_revoked' };
    const a = await rawAgent({ upstreams }, { guard });
    closers.push(a.close);
    const answer = await a.init();
    expect(answer.error).toMatchObject({ code: -32600, data: { reason: 'token_revoked' } });
    expect(answer.result).toBeUndefined();
  });

  it('is refused (internal) when the standing check itself fails', async () => {
    const guard = { ...createAllowAllGuard(), requestStanding: () => { throw new Error('registry down'); } };
    const a = await rawAgent({ upstreams }, { guard });
    closers.push(a.close);
    expect((await a.init()).error).toMatchObject({ code: -32600, data: { reason: 'internal' } });
  });

  it('opens the session when the subject stands', async () => {
    const guard = { ...createAllowAllGuard(), requestStanding: () => undefined };
    const a = await rawAgent({ upstreams }, { guard });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
  });
});
