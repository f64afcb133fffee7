import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

describe('a stdio upstream answer with multi-byte characters across pipe chunks', () => {
  it('relays every character intact (a character split between two reads is not turned into U+FFFD)', async () => {
    const upstream = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/multibyte-server.mjs')], env: { REPEAT: '40000' } };
    const a = await rawAgent({ upstreams: { upstream } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // ~400 KB in one line: several pipe reads, and with 1- to 4-byte characters some read ends mid-character.
    const answer = await a.request('tools/call', { name: 'big', arguments: {} });
    const got = (answer.result as { content: Array<{ text: string }> }).content[0]!.text;
    expect(got.includes('\uFFFD')).toBe(false);
    expect(got === 'aé€😀'.repeat(40_000)).toBe(true);
  });
});
