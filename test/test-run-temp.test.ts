import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

// test/global-setup.ts gives the run one temp folder and removes it at the end; these check that
// the tests and the processes they spawn really write there, so a run leaves nothing in /tmp.
describe('test run temp folder', () => {
  it('points os.tmpdir() of the test workers at the run folder', () => {
    expect(basename(tmpdir())).toMatch(/^warden-test-run-/);
  });

  it('reaches the processes tests spawn (wardens, upstreams)', () => {
    const childTmp = execFileSync(process.execPath, ['-p', 'require("node:os").tmpdir()'], { encoding: 'utf8' }).trim();
    expect(childTmp).toBe(tmpdir());
  });
});
