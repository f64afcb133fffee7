import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { REPO_ROOT } from '../helpers/paths.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const MIB = 1024 * 1024;

/**
 * A stdio upstream's line arrives in pipe reads of at most 64 KiB. The transport used to join the
 * held part of the line with each read and search the whole of it for a newline: quadratic in the
 * line's length. One 30 MB line (under the default 32 MiB bound) cost over 15 s of warden's CPU,
 * every session's, and an upstream could send such lines for ever; an honest big result paid it too.
 */
describe('a stdio upstream writing one very long line', () => {
  it('cannot make warden rescan the held line on every pipe read (30 MB relayed in linear time)', async () => {
    // 'aé€😀' is 10 bytes of UTF-8: 3,000,000 of them make a 30 MB line.
    const upstream = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/multibyte-server.mjs')], env: { REPEAT: '3000000' } };
    const a = await rawAgent({ upstreams: { upstream }, limits: { maxUpstreamMessageBytes: 32 * MIB }, timeouts: { callMs: 60_000 } });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const cpu = process.cpuUsage();
    const answer = await a.request('tools/call', { name: 'big', arguments: {} });
    const used = process.cpuUsage(cpu);
    const text = (answer.result as { content: Array<{ text: string }> }).content[0]!.text;
    expect(text === 'aé€😀'.repeat(3_000_000)).toBe(true);
    // CPU time of this process (warden runs in it), not wall time: other work on the machine
    // hardly changes it. Rescanning the held line took over 7 s of it on a 2-core CI machine;
    // reading the line once (plus parsing and relaying it, here and in the agent) takes under 1 s.
    expect((used.user + used.system) / 1000).toBeLessThan(3_000);
  }, 120_000);
});

/**
 * `limits.maxUpstreamMessageBytes` is a bound in bytes, but a stdio upstream's line was measured
 * as a string, in UTF-16 units: a line of three- and four-byte characters passed at up to three
 * times the bound, held whole in warden's memory and relayed. 'aé€😀' is 10 bytes in 5 units.
 */
describe('a stdio upstream line over the byte bound in multibyte characters', () => {
  for (const { repeat, limit, how } of [
    { repeat: 3_000, limit: 20_000, how: 'in one pipe read' },
    { repeat: 30_000, limit: 200_000, how: 'across several pipe reads' },
  ]) {
    it(`is refused, not passed at up to three times the bound (${how})`, async () => {
      const upstream = { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/multibyte-server.mjs')], env: { REPEAT: String(repeat) } };
      const a = await rawAgent({ upstreams: { upstream }, limits: { maxUpstreamMessageBytes: limit }, timeouts: { callMs: 3_000 } });
      closers.push(a.close);
      expect(await a.init()).toHaveProperty('result');
      // Under the bound in UTF-16 units (5 per repeat), over it in bytes (10 per repeat).
      expect(repeat * 5).toBeLessThan(limit);
      expect(repeat * 10).toBeGreaterThan(limit);
      const answer = await a.request('tools/call', { name: 'big', arguments: {} });
      expect(JSON.stringify(answer)).not.toContain('aé€😀');
      expect(answer.error ?? (answer.result as { isError?: boolean } | undefined)?.isError).toBeTruthy();
    }, 30_000);
  }
});
