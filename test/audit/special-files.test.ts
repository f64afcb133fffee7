import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLines } from '../../src/audit/line-stream.js';
import { openAuditSink } from '../../src/audit/open-audit-sink.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';
import { verifyAuditFiles } from '../../src/audit/verify-audit.js';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * A log path replaced by a FIFO (the open blocks until a writer comes) or by a link to
 * /dev/zero (a read that never ends) must not hang `warden audit verify` in a monitoring job:
 * the check must end and say the file cannot be read.
 */
let dir: string;
let fifo: string;
let zero: string;

beforeAll(() => {
  requireBuild();
  dir = tempDir('warden-special-');
  mkdirSync(join(dir, 'fifo'));
  fifo = join(dir, 'fifo', 'warden-audit.jsonl');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  mkdirSync(join(dir, 'zero'));
  zero = join(dir, 'zero', 'warden-audit.jsonl');
  symlinkSync('/dev/zero', zero);
});

function cli(args: string[]): { code: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('audit readers refuse files that are not regular files instead of hanging', () => {
  it('readLines refuses a FIFO and a link to /dev/zero', () => {
    expect(() => [...readLines(fifo)]).toThrow(/not a regular file/);
    expect(() => [...readLines(zero)]).toThrow(/not a regular file/);
  });

  it('verifyAuditFiles reports unreadable_file for a link to /dev/zero', () => {
    expect(verifyAuditFiles([zero]).problem?.code).toBe('unreadable_file');
  });

  it.each([
    ['a FIFO', () => fifo],
    ['a link to /dev/zero', () => zero],
  ])('warden audit verify on %s ends with unreadable_file (exit 3)', (_name, path) => {
    const r = cli(['verify', path(), '--json']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(3);
    expect((JSON.parse(r.stdout) as { problem: { code: string } }).problem.code).toBe('unreadable_file');
  });

  it('warden audit verify with a FIFO as the checkpoint ends with bad_checkpoint', async () => {
    const file = join(dir, 'cp', 'warden-audit.jsonl');
    mkdirSync(join(dir, 'cp'));
    const sink = await openAuditSink({ file });
    sink.record({ type: 'warden.stop', reason: 'test' });
    await sink.close();
    const checkpoint = defaultCheckpointPath(file);
    rmSync(checkpoint);
    expect(spawnSync('mkfifo', [checkpoint]).status).toBe(0);
    const r = cli(['verify', file, '--json']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { problem: { code: string } }).problem.code).toBe('bad_checkpoint');
  });

  it('warden audit query on a link to /dev/zero ends with an error instead of hanging', () => {
    const r = cli(['query', '--file', zero]);
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a regular file/);
  });
});
