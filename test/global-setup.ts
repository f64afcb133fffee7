import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temp folder per test run. Tests, the wardens they start and those wardens' upstreams all
 * make temp folders (configs, audit logs, pins, sockets); pointing TMPDIR here makes
 * `os.tmpdir()` in every one of those processes land inside this folder, and the teardown
 * removes it whole. Without it each `npm test` left several hundred folders in /tmp.
 *
 * Vitest runs this in its main process before it forks the test workers, and the workers
 * inherit the environment, so the change reaches every test file.
 */
export function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'warden-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // KEEP_TEST_TMP=1 keeps the folder for a post-mortem of a failed run.
    if (process.env.KEEP_TEST_TMP === '1') {
      process.stderr.write(`test temp files kept in ${root}\n`);
      return;
    }
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      // A test that left a mount behind (the disk-full test mounts a tmpfs) makes this fail:
      // say so, but do not turn a green run red over cleanup.
      process.stderr.write(`could not remove test temp folder ${root}: ${String(err)}\n`);
    }
  };
}
