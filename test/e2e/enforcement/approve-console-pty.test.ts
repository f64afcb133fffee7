import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, expectUpstreamText } from '../../helpers/enforcement-assert.js';
import { createTestIdp, writeSecret } from '../../helpers/enforcement-identity.js';
import { spawnInPty, type PtyProgram } from '../../helpers/enforcement-pty.js';
import { startStdioWarden, type EnforcementWarden } from '../../helpers/enforcement-warden.js';
import { WARDEN_MAIN } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * A human at `warden approve` in a real pseudo-terminal answers the calls a real agent makes
 * through a real warden (stdio, identity alice via agent-7): read the screen, type the answer.
 */
let w: EnforcementWarden;
let pty: PtyProgram | undefined;

beforeAll(async () => {
  if (!existsSync(WARDEN_MAIN)) throw new Error('build first: npx tsc -p tsconfig.json');
  const dir = tempDir('warden-e2e-enf-');
  const idp = await createTestIdp(dir);
  writeSecret(dir, 'agent.jwt', await idp.mint('alice', 'agent-7'));
  w = await startStdioWarden({ dir, sections: { identity: idp.section({ token: { file: 'agent.jwt' } }), approvals: { timeoutMs: 30_000 } } });
});
afterAll(async () => {
  pty?.kill();
  await w?.close();
});

describe('warden approve in a pseudo-terminal, answering a live agent', () => {
  it('allows one call with "a" and denies the next with "d" and a reason', async () => {
    pty = spawnInPty(process.execPath, [WARDEN_MAIN, 'approve', '--url', w.control.url, '--token-file', w.adminTokenFile]);
    await pty.waitFor('waiting for approval requests');

    const first = w.client.callTool({ name: 'write_file', arguments: { path: '/e2e/pty-allow.txt', content: 'typed yes' } });
    await pty.waitFor(/s left/);
    const shown = pty.screen();
    expect(shown).toContain('alice via agent-7'); // who
    expect(shown).toContain('acme / write_file'); // what
    expect(shown).toContain('/e2e/pty-allow.txt');
    expect(shown).toContain('approve-writes'); // why
    expect(w.upstreamCalls()).toEqual([]);
    let mark = pty.mark();
    pty.type('a');
    expectUpstreamText(await first, 'wrote 9 bytes to /e2e/pty-allow.txt');
    await pty.waitFor('allowed once', { after: mark });
    expect(w.upstreamCalls().map((c) => c.arguments.path)).toEqual(['/e2e/pty-allow.txt']);

    mark = pty.mark();
    const second = w.client.callTool({ name: 'write_file', arguments: { path: '/e2e/pty-deny.txt', content: 'typed no' } });
    await pty.waitFor('/e2e/pty-deny.txt', { after: mark });
    await pty.waitFor(/s left/, { after: mark });
    // The approver reads the new card first: one shown within a second of a key press ignores
    // answer keys for a second (so a double tap cannot answer it).
    await new Promise((r) => setTimeout(r, 1_100));
    pty.type('d');
    await pty.waitFor('deny reason', { after: mark });
    pty.type('wrong folder\r');
    const decision = expectRefusal(await second, 'approval_denied');
    expect(decision.approver).toBe('admin');
    expect(JSON.stringify((await second).content)).toContain('wrong folder');
    await pty.waitFor('✔ denied', { after: mark });
    expect(w.upstreamCalls().map((c) => c.arguments.path)).toEqual(['/e2e/pty-allow.txt']);

    const answered = w.audit().filter((r) => r.type === 'call.approval_answered');
    expect(answered.map((r) => r.outcome)).toEqual(['allow_once', 'deny']);
    expect(answered[1]).toMatchObject({ reason: 'wrong folder', approver: { kind: 'admin', id: 'admin' } });
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });
});
