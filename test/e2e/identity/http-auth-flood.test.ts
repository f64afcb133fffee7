import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { auditOfType, eventually, identityEnv, type IdentityEnv } from '../../helpers/identity-env.js';
import { runWardenCli, startHttpWarden, type HttpWarden } from '../../helpers/identity-warden.js';

/**
 * Anyone who can reach warden's HTTP port can send requests without a valid token. Each used to
 * write an audit record: a flood filled the audit disk, and a full audit disk blocks every call.
 */
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const FLOOD = 300;

let env: IdentityEnv;
let warden: HttpWarden;

beforeAll(async () => {
  env = await identityEnv('warden-e2e-flood-');
  warden = await startHttpWarden(env.dir, env.config({ identity: env.identity({}), policy: { files: [TRANSPARENT_POLICY], watch: false } }));
});
afterAll(async () => {
  await warden?.stop();
});

describe('an unauthenticated flood against the HTTP listener', () => {
  it('cannot fill the audit disk: the first failures are recorded, the rest summarised in one record at the end of the window', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    for (let i = 0; i < FLOOD; i += 30) {
      const batch = await Promise.all(Array.from({ length: 30 }, () => rawHttp(warden.url, { headers, body: INIT })));
      // Every request is still refused, whether or not it gets a record of its own.
      expect(batch.map((r) => r.status)).toEqual(Array(30).fill(401));
    }
    await eventually(() => auditOfType(env.auditFile, 'identity.failed').length === 10);
    expect(await warden.stop()).toBe(0);

    expect(auditOfType(env.auditFile, 'identity.failed')).toHaveLength(10);
    const summaries = auditOfType(env.auditFile, 'identity.failures_suppressed');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ transport: 'http', count: FLOOD - 10, reasons: { token_missing: FLOOD - 10 }, sources: 1, top: [{ remoteAddress: '127.0.0.1', count: FLOOD - 10 }] });
    expect(summaries[0]!.until as number).toBeGreaterThanOrEqual(summaries[0]!.since as number);
    // Written before warden.stop, on the same chain.
    const types = auditOfType(env.auditFile, 'warden.stop');
    expect(types).toHaveLength(1);
    expect((types[0]!.seq as number) > (summaries[0]!.seq as number)).toBe(true);
    const verified = await runWardenCli(['audit', 'verify', env.auditFile]);
    expect(verified.status).toBe(0);
  }, 30_000);
});
