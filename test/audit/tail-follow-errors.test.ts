import { spawn } from 'node:child_process';
import { appendFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILING_READ, readFails } from '../helpers/failing-read-file.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';
import { closedAfterEach } from '../helpers/closed-after-each.js';

/**
 * `warden audit tail -f` runs for hours in an operator's terminal or a log shipper. What happens
 * to the path meanwhile must end in a clear word, never a stack trace: a rotation in progress is
 * waited for, a file that cannot be read ends the follow with the file named and exit 3.
 */
const record = (seq: number): string => `${JSON.stringify({ v: 1, seq, ts: '2026-11-22T10:00:00.000Z', type: 'call.forwarded', callId: `c-${seq}`, upstream: 'fs', tool: 't' })}\n`;

// A follower that outlived a failed assertion would tail its file forever.
const started = closedAfterEach();

function follow(file: string): { out: () => string; err: () => string; exited: Promise<number | null>; kill: () => void; until: (done: () => boolean) => Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'audit', 'tail', file, '-f'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  started.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  return {
    out: () => out,
    err: () => err,
    exited,
    kill: () => child.kill('SIGINT'),
    until: async (done) => {
      for (const deadline = Date.now() + 15_000; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** The exit code, or 'hung' (the child is then killed). */
async function exitWithin(f: ReturnType<typeof follow>, ms: number): Promise<number | null | 'hung'> {
  const code = await Promise.race([f.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);
  if (code === 'hung') f.kill();
  return code;
}

/** A fresh log holding record #1, and `tail -f` on it once #1 is printed. */
async function followingOneRecord() {
  const dir = tempDir('warden-tail-follow-');
  const file = join(dir, 'warden-audit.jsonl');
  writeFileSync(file, record(1));
  const f = follow(file);
  await f.until(() => f.out().includes('#1 '));
  return { dir, file, f };
}

beforeAll(() => requireBuild());

describe('warden audit tail -f when the followed log goes bad', () => {
  it.skipIf(!readFails)('a log rotated to a file whose read fails ends with the file named and exit 3, not an uncaught exception', async () => {
    const { dir, file, f } = await followingOneRecord();
    // #1 is printed before tail starts following: a record appended after it shows that tail
    // holds the file open, so the swap below is a rotation it sees, not the file it opens first.
    appendFileSync(file, record(2));
    await f.until(() => f.out().includes('#2 '));
    // Rotated: the path now names another file, and that one cannot be read.
    symlinkSync(FAILING_READ, join(dir, 'next'));
    renameSync(join(dir, 'next'), file);
    expect(await exitWithin(f, 15_000)).toBe(3);
    expect(f.err()).toContain(`${file}: cannot read: EINVAL; stopped following`);
    expect(f.err()).not.toMatch(/\n\s+at /);
  }, 40_000);

  it('a symlink loop put at the path mid-follow stops tail with the file named and exit 3, instead of following nothing forever', async () => {
    const { dir, file, f } = await followingOneRecord();
    // A last record lands in the followed file, then the path loops (log -> b -> log): it can
    // never name the next log by itself.
    appendFileSync(file, record(2));
    symlinkSync(file, join(dir, 'b'));
    symlinkSync(join(dir, 'b'), join(dir, 'next'));
    renameSync(join(dir, 'next'), file);
    expect(await exitWithin(f, 10_000)).toBe(3);
    expect(f.err()).toBe(`warden audit tail: ${file}: the path became a symbolic link loop (ELOOP); stopped following\n`);
    expect(f.out()).toContain('#2 call.forwarded c-2');
  }, 40_000);

  it('a path that cannot be opened (a symlink loop) is waited for, said once, and followed once a log is there', async () => {
    const dir = tempDir('warden-tail-follow-');
    const file = join(dir, 'warden-audit.jsonl');
    symlinkSync(file, file);
    const f = follow(file);
    await f.until(() => f.err().includes('waiting'));
    expect(f.err()).toBe(`warden audit tail: ${file}: cannot open (ELOOP); waiting for the log\n`);
    rmSync(file);
    writeFileSync(file, record(7));
    await f.until(() => f.out().includes('#7 '));
    expect(f.out()).toContain('#7 call.forwarded c-7');
    f.kill();
    expect(await exitWithin(f, 5_000)).toBe(0);
    expect(f.err().match(/waiting/g)).toHaveLength(1);
  }, 40_000);
});
