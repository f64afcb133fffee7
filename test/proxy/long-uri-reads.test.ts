import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JUDGED_URI_CHARS } from '../../src/proxy/template-pin-check.js';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** Pins that accept every definition: a read is judged against the upstream's resource templates. */
const pinnedGuard = {
  checkToolCall: () => ({ kind: 'forward' as const }),
  definitionListing: () => ({ listed: true as const }),
  onDefinitionsListed: () => undefined,
};

describe('a read of a multi-megabyte URI through an upstream with resource templates (event-loop stall)', () => {
  it('is refused -32602 uri_too_long before its spellings are worked out, and never forwarded; a URI at the limit reads as before', async () => {
    const callLog = join(tempDir('warden-long-uri-'), 'calls.jsonl');
    const audit = createRecordingAudit();
    const a = await rawAgent(
      { upstreams: { slow: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs')], env: { CALL_LOG: callLog, SLOW_DEFS: '1' } } } },
      { guard: pinnedGuard, audit },
    );
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // 3.9 MB of nested escapes: seconds of canonicalising on the event loop every session shares.
    const long = `slow://docs/${'%25'.repeat(1_300_000)}`;
    const answer = await a.request('resources/read', { uri: long });
    expect(answer.error).toMatchObject({ code: -32602, data: { reason: 'uri_too_long', limit: MAX_JUDGED_URI_CHARS } });
    expect(existsSync(callLog) ? readFileSync(callLog, 'utf8') : '').toBe('');
    // Audited as refused, with the URI's length, not its megabytes.
    const refused = audit.ofType('request.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ method: 'resources/read', upstream: 'slow', reason: 'uri_too_long', uriLength: long.length, limit: MAX_JUDGED_URI_CHARS });
    expect(refused[0]).not.toHaveProperty('uri');
    const atLimit = `slow://docs/${'a'.repeat(MAX_JUDGED_URI_CHARS - 'slow://docs/'.length)}`;
    expect(await a.request('resources/read', { uri: atLimit })).toHaveProperty('result');
    expect(readFileSync(callLog, 'utf8').trim().split('\n')).toHaveLength(1);
  }, 30_000);
});

describe('an upstream listing a resource template of megabytes (event-loop stall on every read)', () => {
  it('is not spelt out: held, it claims every URI, so a read any template may claim is refused at once, never forwarded', async () => {
    const callLog = join(tempDir('warden-long-template-'), 'calls.jsonl');
    const a = await rawAgent(
      { upstreams: { slow: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs')], env: { CALL_LOG: callLog, SLOW_DEFS: '1', LONG_TEMPLATE: '1' } } } },
      { guard: { ...pinnedGuard, definitionListing: (_kind: string, _upstream: string, name: string) => (name === 'long' ? { listed: false as const, why: 'changed' as const } : { listed: true as const }) } },
    );
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const answer = await a.request('resources/read', { uri: 'slow://docs/plan' });
    expect(answer.error).toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    expect(existsSync(callLog) ? readFileSync(callLog, 'utf8') : '').toBe('');
  }, 30_000);
});

describe('an upstream listing 100,000 resource templates (a second of the event loop on every read)', () => {
  it('has them spelt out once per listing, not again for every read', async () => {
    const a = await rawAgent(
      { upstreams: { slow: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/slow-list-server.mjs')], env: { SLOW_DEFS: '1', MANY_TEMPLATES: '100000' } } } },
      { guard: pinnedGuard },
    );
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    // The first read lists and spells the templates; the next 20 only compare. Listing 100,000
    // takes seconds of CPU, more on a loaded machine: not a hang.
    expect(await a.request('resources/read', { uri: 'slow://docs/first' }, 40_000)).toHaveProperty('result');
    // CPU, not wall time: warden runs in this process, and a loaded machine stretches wall time.
    const started = process.cpuUsage();
    for (let i = 0; i < 20; i++) expect(await a.request('resources/read', { uri: `slow://docs/${i}` })).toHaveProperty('result');
    // Spelt again per read this took about a second of CPU each.
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(6_000);
  }, 60_000);
});
