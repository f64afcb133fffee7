import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForRecord } from '../../helpers/audit-e2e-warden.js';
import { transparentGuardrails } from '../../helpers/paths.js';
import { eventuallyResolves, until } from '../../helpers/progress.js';
import { floodUpstream, logRecords } from '../../helpers/slow-reader-peers.js';
import { spawnPausableWarden } from '../../helpers/slow-reader-stdio.js';
import { tempDir } from '../../helpers/warden-process.js';

const BOUND = 256 * 1024;
type Warden = ReturnType<typeof spawnPausableWarden>;
const running: Warden[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

async function startWarden(auditFile?: string): Promise<Warden> {
  const w = spawnPausableWarden({
    dangerouslyAllowAnonymous: true,
    upstreams: { flood: floodUpstream() },
    ...transparentGuardrails(),
    limits: { maxBufferedOutputBytes: BOUND },
    logging: { level: 'info' },
    ...(auditFile ? { audit: { file: auditFile } } : {}),
  });
  running.push(w);
  const init = await w.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slow-reader', version: '1' } });
  expect(init).toHaveProperty('result');
  w.notify('notifications/initialized');
  return w;
}

const logged = (w: Warden, msg: string) => logRecords(w.stderr).find((r) => r.msg === msg);

describe('peers of a stdio warden that stop reading', () => {
  it('an agent that stops reading warden\'s stdout cannot grow warden\'s memory: its session ends', async () => {
    const auditFile = join(tempDir('warden-slow-stdio-'), 'audit.jsonl');
    const w = await startWarden(auditFile);
    expect(await w.request('tools/call', { name: 'flood', arguments: { size: 16384 } })).toMatchObject({ result: { content: [{ text: 'flooding' }] } });
    // The upstream keeps sending 16 KiB notifications; the agent no longer reads any of them.
    w.stopReading();
    // The stdio session ending is warden ending (as when the agent goes away), cleanly.
    await until(() => w.exitCode !== undefined, 8_000);
    expect(w.exitCode).toBe(0);
    const warning = logged(w, 'agent is not reading its output; closing the session');
    expect(warning).toMatchObject({ limitBytes: BOUND });
    expect(warning!.bufferedBytes as number).toBeGreaterThan(BOUND);
    const closed = await waitForRecord(auditFile, (r) => r.type === 'session.closed' && r.sessionId === warning!.sessionId);
    expect(closed.reason).toBe('output_overflow');
  }, 15_000);

  it('an upstream that stops reading its stdin cannot grow warden\'s memory: it is failed and restarted', async () => {
    const w = await startWarden();
    expect(await w.request('tools/call', { name: 'deaf', arguments: {} })).toMatchObject({ result: { content: [{ text: 'deaf' }] } });
    // Calls of 128 KiB each go to a child that reads none of them: 2 MiB in all, well past the
    // bound plus what the pipe itself holds.
    const text = 'a'.repeat(128 * 1024);
    const ids = Array.from({ length: 16 }, () => w.send('tools/call', { name: 'echo', arguments: { text } }));
    const answers = await Promise.all(ids.map((id) => w.answerTo(id, 8_000)));
    // Every call is answered (none waits for the call timeout), those in flight with the crash error.
    const failed = answers.filter((a) => (a.error as { code?: number } | undefined)?.code === -32000);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((a) => /is not reading its input/.test((a.error as { message: string }).message))).toBe(true);
    expect(logged(w, 'upstream is not reading its input; treating it as failed')).toMatchObject({ upstream: 'flood', limitBytes: BOUND });
    // Warden lives on, and the restarted upstream serves again.
    expect(await w.request('ping')).toHaveProperty('result');
    const again = await eventuallyResolves(async () => {
      const r = await w.request('tools/call', { name: 'echo', arguments: { text: 'hello' } });
      if (!('result' in r)) throw new Error(JSON.stringify(r));
      return r;
    });
    expect(again).toMatchObject({ result: { content: [{ text: '5' }] } });
    expect(w.exitCode).toBeUndefined();
  }, 15_000);
});
