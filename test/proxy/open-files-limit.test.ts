import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descriptorsNeeded, openFilesLimit, warnIfDescriptorsShort } from '../../src/proxy/open-files-limit.js';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { acmeConfig, writeTempConfig } from '../helpers/warden-process.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe('openFilesLimit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    expect(openFilesLimit(() => LIMITS)).toBe(1024);
  });
  it('is unknown when unlimited, unreadable or missing', () => {
    expect(openFilesLimit(() => LIMITS.replace('1024 ', 'unlimited '))).toBeUndefined();
    expect(openFilesLimit(() => 'nothing here')).toBeUndefined();
    expect(openFilesLimit(() => {
      throw new Error('ENOENT');
    })).toBeUndefined();
  });
  it('on this machine, reads a number (Linux)', () => {
    expect(openFilesLimit()).toEqual(expect.any(Number));
  });
});

describe('warnIfDescriptorsShort', () => {
  const needs = { maxConnections: 4160, maxSessions: 64, stdioUpstreams: 2 };
  it('counts connections, three pipes per stdio upstream and two sockets per HTTP upstream per session, and warden\'s own', () => {
    expect(descriptorsNeeded(needs)).toBe(4160 + 64 * 2 * 3 + 64);
    expect(descriptorsNeeded({ ...needs, httpUpstreams: 1 })).toBe(4160 + 64 * (2 * 3 + 2) + 64);
  });
  it('warns once, naming the numbers and the keys, when the limit cannot back the caps', () => {
    const said: unknown[][] = [];
    const logger = { warn: (...a: unknown[]) => said.push(a) } as never;
    warnIfDescriptorsShort(needs, logger, 4096);
    expect(said).toHaveLength(1);
    expect(String(said[0]![1])).toContain('the open-files limit (4096) is below the 4608 descriptors');
    expect(String(said[0]![1])).toContain('listen.http.maxConnections');
    warnIfDescriptorsShort(needs, logger, 20000);
    warnIfDescriptorsShort(needs, logger, undefined);
    expect(said).toHaveLength(1);
  });
});

const closers = closedAfterEach();

describe('warden run under a low open-files limit (prlimit)', () => {
  it('warns at start-up that the connection cap is no bound (descriptors would run out first), and still starts', async () => {
    const config = writeTempConfig({ ...acmeConfig(), logging: { level: 'info' }, listen: { stdio: false, http: { port: 0 } } });
    const child = spawn('prlimit', ['--nofile=512:512', '--', process.execPath, WARDEN_MAIN, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    closers.push(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`warden did not start: ${lines.join('\n')}`)), 15_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        if (lines.some((l) => l.includes('"http"'))) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`warden exited with ${code}: ${lines.join('\n')}`)));
    });
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes('open-files limit'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('the open-files limit (512) is below the');
  }, 30_000);
});
