import { spawn } from 'node:child_process';
import { chmodSync, linkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveControlTarget } from '../../src/control/control-client.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * In a folder others may write (a group-shared project folder), someone can swap control-url for a
 * file of theirs and back while a CLI reads it. The file the URL is read from must be the file
 * whose owner and mode were checked, or the admin credential goes to the URL they planted.
 */
describe('control-url read and check are one file', () => {
  it('a control-url swapped between the trust check and the read never sends the credential to the planted URL', async () => {
    const dir = tempDir('warden-control-url-swap-');
    writeFileSync(join(dir, 'admin-token'), `${'t'.repeat(43)}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'good'), 'http://127.0.0.1:1111\n', { mode: 0o600 });
    writeFileSync(join(dir, 'planted'), 'http://127.0.0.1:6666\n');
    chmodSync(join(dir, 'planted'), 0o666); // what the check rejects: writable by others
    linkSync(join(dir, 'good'), join(dir, 'control-url'));
    // Another process swaps the two in, atomically and without end, while this one resolves.
    const swapper = spawn(process.execPath, ['-e', `
      const fs = require('node:fs'); const d = ${JSON.stringify(dir)};
      for (let i = 0; ; i++) { const t = d + '/swap-' + i; fs.linkSync(d + (i % 2 ? '/good' : '/planted'), t); fs.renameSync(t, d + '/control-url'); }
    `], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 150));
      const urls = new Set<string>();
      let followed = 0;
      for (let i = 0; i < 10_000; i++) {
        try {
          urls.add(resolveControlTarget({ tokenFile: join(dir, 'admin-token') }, {}, dir).url);
          followed += 1;
        } catch (err) {
          expect((err as { code?: string }).code).toBe('control_unavailable');
        }
      }
      expect(urls.has('http://127.0.0.1:6666')).toBe(false);
      // The trusted file was seen and followed too: the loop really raced the swapper.
      expect(followed).toBeGreaterThan(0);
    } finally {
      swapper.kill();
    }
  }, 60_000);
});
