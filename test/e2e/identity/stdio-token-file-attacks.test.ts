import { execFile, execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityEnv } from '../../helpers/identity-env.js';
import { writeConfig } from '../../helpers/identity-warden.js';
import { WARDEN_MAIN } from '../../helpers/paths.js';

/**
 * The stdio token file is read on the event loop. A path that is not a regular file (a FIFO with
 * no writer, a character device such as /dev/zero that never ends) must be refused at once: a
 * blocking or endless read would hang warden before it starts, or on the next call once swapped in.
 */
async function startWith(tokenPath: (dir: string) => string) {
  const env = await identityEnv('warden-e2e-tokfile-');
  const file = tokenPath(env.dir);
  const configFile = writeConfig(env.dir, env.config({ identity: env.identity({ token: { file } }) }));
  return run(['run', '--config', configFile]);
}

/** `warden <args>` to completion; a hung warden is killed (SIGKILL: a blocked event loop ignores SIGTERM) and reported as null. */
function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WARDEN_MAIN, ...args], { encoding: 'utf8', timeout: 15_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : null) : 0, stderr });
    });
  });
}

describe('stdio token file that is not a regular file', () => {
  it('refuses a FIFO token file at start-up instead of blocking forever', async () => {
    const result = await startWith((dir) => {
      const fifo = join(dir, 'token.fifo');
      execFileSync('mkfifo', [fifo]);
      return fifo;
    });
    expect(result.status).not.toBe(null); // null: killed by the helper's timeout (hung)
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('identity.token');
  });

  it('refuses a token file that is a symlink to an endless device (/dev/zero)', async () => {
    const result = await startWith((dir) => {
      const link = join(dir, 'token.jwt');
      symlinkSync('/dev/zero', link);
      return link;
    });
    expect(result.status).not.toBe(null);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('identity.token');
  });
});
