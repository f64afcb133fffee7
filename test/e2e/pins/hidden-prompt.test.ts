import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/paths.js';
import { auditRecords } from '../../helpers/pins-listing-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { spawnWardenStdio, tempDir } from '../../helpers/warden-process.js';

/**
 * prompts/get hands the model text under a prompt's name. A server that serves a prompt it never
 * lists would get text to the model that was never pinned nor scanned; warden refuses it as
 * unknown. Judging an unseen prompt costs warden one prompts/list of the upstream, once per
 * burst, not once per request. Real processes: SDK Client → warden (stdio) → fixture server.
 */
const running: ConnectedClient[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.close()));
});

async function start(dir: string): Promise<ConnectedClient> {
  const w = await spawnWardenStdio({
    dangerouslyAllowAnonymous: true,
    upstreams: { hp: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/pins/hidden-prompt-server.mjs')], env: { PROMPT_DIR: dir } } },
    audit: { file: join(dir, 'audit.jsonl') },
    control: { enabled: false },
    pins: { file: join(dir, 'pins.json') },
    logging: { level: 'warn' },
  });
  running.push(w);
  return w;
}

const requests = (dir: string): string[] => (existsSync(join(dir, 'requests')) ? readFileSync(join(dir, 'requests'), 'utf8').split('\n').filter(Boolean) : []);

describe('pins: prompts/get of a prompt the upstream never lists', () => {
  it('refuses a hidden prompt (served but never listed): never forwarded, audited', async () => {
    const dir = tempDir('warden-e2e-pins-hidden-prompt-');
    const w = await start(dir);
    await expect(w.client.getPrompt({ name: 'hidden' })).rejects.toMatchObject({ code: -32602, data: { reason: 'prompt.unlisted' } });
    expect(requests(dir)).toEqual(['prompts/list']); // judged by a listing, never fetched
    expect(auditRecords(dir, 'request.refused')).toMatchObject([{ upstream: 'hp', prompt: 'hidden', reason: 'prompt.unlisted' }]);
    // The listed one is pinned on first sight and fetched.
    expect((await w.client.getPrompt({ name: 'listed' })).messages).toHaveLength(1);
    expect(requests(dir)).toEqual(['prompts/list', 'prompts/get']);
  });

  it('a burst of gets for unlisted prompts costs the upstream one listing, not one each (amplification)', async () => {
    const dir = tempDir('warden-e2e-pins-prompt-burst-');
    const w = await start(dir);
    const gets = Array.from({ length: 20 }, (_, i) => w.client.getPrompt({ name: `hidden_${i}` }).catch((err: { code?: number }) => err.code));
    expect(await Promise.all(gets)).toEqual(Array.from({ length: 20 }, () => -32602));
    expect(requests(dir).filter((m) => m === 'prompts/list').length).toBeLessThanOrEqual(2);
    expect(requests(dir)).not.toContain('prompts/get');
  });
});
