import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEventsStdioWarden } from '../../helpers/events-warden.js';
import { auditOfType, upstreamCalls } from '../../helpers/identity-env.js';
import { at, pushSet, userSubject } from '../../helpers/events-sets.js';
import { closedAfterEach } from '../../helpers/closed-after-each.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';

/**
 * While the revocations file cannot be written, a revoking SET is answered 503 (in force, not
 * saved) and the transmitter sends it again and again. Each retry added a registry entry and ran
 * the revocation's reactions again (sessions closed, approvals withdrawn, grants retired), so
 * memory and work grew with the retries rather than the events. Real processes: an SDK agent on
 * `warden run` (stdio, signed token, a test SET transmitter) in front of ACME.
 */
const closers = closedAfterEach();

describe('retries of a revocation warden could not save (registry growth per retry)', () => {
  it('reuse the one entry in force: one revocation record, 503 until the file can be written, then 202 and one entry saved', async () => {
    const { env, tx, agent, eventsUrl: url } = await startEventsStdioWarden('warden-e2e-unsaved-retries-', {
      user: 'alice',
      policy: readFileSync(TRANSPARENT_POLICY, 'utf8'),
      config: { state: { revocationsFile: 'revdir/revocations.json' } },
    });
    closers.push(() => agent.close());
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'hi' } })).isError).toBeFalsy();

    // A regular file where the revocations folder should be: every save fails.
    const blocker = join(env.dir, 'revdir');
    rmSync(blocker, { recursive: true, force: true });
    writeFileSync(blocker, 'not a folder');
    const set = await tx.mint({ subId: userSubject('alice'), jti: 'revoke-alice-1', events: { 'session-revoked': at(Date.now() - 5_000) } });
    for (let i = 0; i < 4; i += 1) {
      const res = await pushSet(url, set);
      expect(res.status, JSON.stringify(res.json)).toBe(503);
    }
    expect(auditOfType(env.auditFile, 'revocation')).toHaveLength(1);
    const effects = auditOfType(env.auditFile, 'event.effect') as { entryId?: string }[];
    expect(effects).toHaveLength(4);
    expect(new Set(effects.map((e) => e.entryId)).size).toBe(1);
    // In force all along: alice's calls are refused.
    expect((await agent.client.callTool({ name: 'echo', arguments: { message: 'again' } })).isError).toBe(true);

    rmSync(blocker);
    expect((await pushSet(url, set)).status).toBe(202);
    const saved = JSON.parse(readFileSync(join(blocker, 'revocations.json'), 'utf8')) as { entries: { id: string; match: { user?: string } }[] };
    expect(saved.entries.filter((e) => e.match.user === 'alice').map((e) => e.id)).toEqual([effects[0]!.entryId]);
    expect(auditOfType(env.auditFile, 'revocation')).toHaveLength(1);
    expect(upstreamCalls(env.callLog).filter((t) => t === 'echo')).toHaveLength(1);
  });
});
