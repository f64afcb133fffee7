import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/logger.js';
import { UpstreamConnection } from '../../src/proxy/upstream-connection.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { until } from '../helpers/progress.js';

const SERVER = join(REPO_ROOT, 'test/fixtures/proxy/silent-after-restart-server.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const starts = (dir: string): string[] => readFileSync(join(dir, 'starts'), 'utf8').trim().split('\n');
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('a session closed while its upstream restarts stays closed: no further restarts, no orphaned child', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-upstream-close-'));
  dirs.push(dir);
  const restarted: string[] = [];
  const connection = new UpstreamConnection(
    'flaky',
    { command: process.execPath, args: [SERVER, dir] },
    { onRequest: () => undefined, onNotification: () => undefined, onRestarted: (u) => void restarted.push(u.name) },
    silentLogger(),
    2_000,
    1 << 20,
    1 << 20,
  );
  await connection.start({ protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } });
  // The server crashes after 100 ms; the restart (after ~250 ms backoff) waits for an initialize that never comes.
  await until(() => starts(dir).length === 2, 5_000);
  await connection.close();
  const atClose = starts(dir);
  // Well past the initialize timeout (2 s) and the next backoff: a dead session must not start servers.
  await sleep(3_500);
  expect(starts(dir)).toEqual(atClose);
  expect(restarted).toEqual([]);
  for (const pid of atClose.map(Number)) await until(() => !alive(pid), 5_000);
}, 20_000);
