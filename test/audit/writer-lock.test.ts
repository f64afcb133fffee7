import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireWriterLock, releaseWriterLock } from '../../src/audit/writer-lock.js';
import { tempDir } from '../helpers/warden-process.js';

/** A pid that is not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid as number;
}

const aMinuteAgo = (path: string): void => {
  const t = new Date(Date.now() - 60_000);
  utimesSync(path, t, t);
};

describe('audit writer lock', () => {
  it('is created whole: the lock holds our pid and no temporary file is left beside it', () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    const lock = acquireWriterLock(log);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(dir)).toEqual(['audit.jsonl.lock']);
    releaseWriterLock(lock);
    expect(existsSync(lock)).toBe(false);
  });

  it('a second starter that finds the lock still empty (its writer is creating it) does not take it over and fork the chain', () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, '');
    expect(() => acquireWriterLock(log)).toThrow(/being created by another process/);
    expect(readFileSync(`${log}.lock`, 'utf8')).toBe('');
  });

  it('an empty lock left long ago (a writer that died at start-up) is taken over', () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, '');
    aMinuteAgo(`${log}.lock`);
    expect(readFileSync(acquireWriterLock(log), 'utf8')).toBe(`${process.pid}\n`);
  });

  it("two starters taking over the same dead writer's lock cannot both win: the second waits for the first one's takeover", async () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, `${await deadPid()}\n`);
    // The first starter (a live process) is in the middle of its takeover (its marker is fresh).
    writeFileSync(`${log}.lock.takeover`, `${process.ppid}\n`);
    expect(() => acquireWriterLock(log)).toThrow(/taking over the stale writer lock/);
    // The stale lock was left for that takeover to replace.
    expect(existsSync(`${log}.lock`)).toBe(true);
  });

  it('a takeover marker left by a starter that died during its takeover does not block for ever', async () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, `${await deadPid()}\n`);
    writeFileSync(`${log}.lock.takeover`, '999999\n');
    aMinuteAgo(`${log}.lock.takeover`);
    expect(readFileSync(acquireWriterLock(log), 'utf8')).toBe(`${process.pid}\n`);
    expect(existsSync(`${log}.lock.takeover`)).toBe(false);
  });

  it('a fresh takeover marker of a starter SIGKILLed mid-takeover does not block the next start (agent restarting warden at once)', async () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, `${await deadPid()}\n`);
    writeFileSync(`${log}.lock.takeover`, `${await deadPid()}\n`);
    expect(readFileSync(acquireWriterLock(log), 'utf8')).toBe(`${process.pid}\n`);
    expect(existsSync(`${log}.lock.takeover`)).toBe(false);
  });

  it('a live other writer keeps its lock', () => {
    const dir = tempDir('warden-lock-');
    const log = join(dir, 'audit.jsonl');
    writeFileSync(`${log}.lock`, `${process.ppid}\n`);
    expect(() => acquireWriterLock(log)).toThrow(new RegExp(`being written by process ${process.ppid}`));
  });
});
