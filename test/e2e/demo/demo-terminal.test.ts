import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/paths.js';

const DEMO = resolve(REPO_ROOT, 'dist/examples/demo/run-demo.js');

/**
 * Runs the compiled demo in a real pseudo-terminal (util-linux `script`), as `npm start` in a
 * terminal does, and types nothing: the person watching did not answer the approval prompt.
 */
function runDemoInTerminal(): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('script', ['-qfec', `'${process.execPath}' '${DEMO}'`, '/dev/null'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
      // Warden's default wait for a person is 50 s; the demo takes a shorter one for this test.
      env: { ...process.env, TERM: 'xterm', WARDEN_DEMO_APPROVAL_TIMEOUT_MS: '3000' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
    child.once('error', fail);
    child.once('close', (code) => (clearTimeout(timer), done({ code, out })));
  });
}

describe('npm start demo in a terminal', () => {
  it('an approval nobody answers is denied by warden at the timeout, and the demo still completes (exit 0)', async () => {
    const { code, out } = await runDemoInTerminal();
    expect(code, out).toBe(0);
    expect(out).toContain('A terminal is attached');
    expect(out).toContain('refused by warden: approval_timeout');
    expect(out).toContain('nobody answered in time, so warden denied the call');
    expect(out).not.toContain('NOT AS EXPECTED');
    expect(out).toContain('Demo complete: every call behaved as expected.');
  }, 60_000);
});
