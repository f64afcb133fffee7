import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/paths.js';

const DEMO = resolve(REPO_ROOT, 'dist/examples/demo/run-demo.js');

/** Runs the compiled demo the way CI or `npm start < /dev/null | cat` does: no terminal attached. */
function runDemo(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [DEMO], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', fail);
    child.once('close', (code) => (clearTimeout(timer), done({ code, out, err })));
  });
}

describe('npm start demo (no terminal)', () => {
  it('finishes by itself, exits 0 and shows allow, throttle, approve, block and a hidden tool', async () => {
    const { code, out, err } = await runDemo();
    expect(code, `stdout:\n${out}\nstderr:\n${err}`).toBe(0);
    // Each action appears as the label of a call line, with warden's reasons beneath.
    for (const label of ['ALLOW      echo', 'ALLOW      read_file', 'THROTTLE   list_customers', 'APPROVE    transfer_funds', 'BLOCK      read_file', 'HIDDEN     run_shell']) {
      expect(out).toContain(label);
    }
    expect(out).toMatch(/throttle_rejected, retry after \d+ ms/);
    // Counted, not listed in write order, which read as if it matched calls #1..#5.
    expect(out).toMatch(/audit call\.throttle: \d admitted \(waited \d+(, \d+)* ms\), \d rejected \(rate\)/);
    expect(out).toContain('scripted approver: allowed apr_');
    expect(out).toContain('refused by warden: policy_block');
    expect(out).toContain('JSON-RPC error -32602');
    expect(out).toMatch(/why: score \d+ · sensitivity\./);
    // The 50,000 EUR payment is blocked by the critical floor; the approve rule only matched.
    const largePayment = out.slice(out.indexOf('BLOCK      transfer_funds'));
    expect(largePayment).toMatch(/^ {11}why: .* · block by policy\.implicit_critical: critical sensitivity needs an explicit allow rule · matched, did not decide: approve-large-payments \(approve\)$/m);
    expect(out).toContain('block by rule block-secret-files');
    expect(out).toMatch(/Audit: 11 decisions: 2 allow, 5 throttle, 1 approve, 3 block/);
    expect(out).toContain('checkpoint seq');
    expect(out).toContain('call.approval_answered');
    expect(out).toContain('Demo complete: every call behaved as expected.');
    expect(out).not.toContain('NOT AS EXPECTED');
  }, 60_000);
});
