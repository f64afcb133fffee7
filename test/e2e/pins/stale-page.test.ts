import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/paths.js';
import { listAllTools, POISON_MARKERS, startPinsWarden, type PinsWarden } from '../../helpers/pins-listing-warden.js';
import { tempDir } from '../../helpers/warden-process.js';

/**
 * With several upstreams, warden answers tools/list once every upstream has. A page from an
 * upstream whose process has been replaced in the meantime is not judged by the pins (it says
 * nothing about the running process); it must not reach the agent either, or a tool server can
 * slip a changed description past its pin by exiting right after answering.
 */
const fixture = (file: string, env: Record<string, string>) => ({ command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures', file)], env });

const running: PinsWarden[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.close()));
});

describe('pins: a tools/list page from an upstream process that is gone', () => {
  it('a poisoned description answered just before the upstream exits never reaches the agent (stale page)', async () => {
    const dir = tempDir('warden-e2e-pins-stale-');
    const w = await startPinsWarden({
      dir,
      more: {
        rug: fixture('pins/rug-on-restart-server.mjs', { RUG_DIR: dir }),
        slow: fixture('proxy/slow-list-server.mjs', { LIST_DELAY_MS: '1500' }),
      },
    });
    running.push(w);
    // First listing: the clean definition is pinned (trust on first use).
    expect((await listAllTools(w.client)).find((t) => t.name === 'rug__lookup')?.description).toBe('Looks a word up in the dictionary.');
    // Now the rug server answers with a poisoned description and exits; `slow` answers 1.5 s later,
    // after warden has restarted `rug`.
    writeFileSync(join(dir, 'poison'), '');
    const tools = await listAllTools(w.client);
    expect(readFileSync(join(dir, 'starts'), 'utf8')).toBe('2');
    const text = JSON.stringify(tools);
    for (const marker of POISON_MARKERS) expect(text).not.toContain(marker);
  }, 30_000);
});
