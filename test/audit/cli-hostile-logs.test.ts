import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild, tempDir } from './audit-test-helpers.js';

/**
 * Hostile logs against the reading commands. Reading is not verification: a tampered log is
 * shown as it stands. But one hostile line must not take the reader down with it, or whoever
 * can append to the log blinds `tail` / `show` / `query` to every other record.
 */
const HASH = 'a'.repeat(64);
const PREV = '0'.repeat(64);

function line(seq: number, callId: string, extra: string): string {
  return `{"action":"allow","callId":"${callId}","hash":"${HASH}","prev":"${PREV}",${extra}"seq":${seq},"ts":"2026-01-01T00:00:0${seq % 10}.000Z","type":"call.decision","v":1}`;
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => requireBuild());

describe('a record nested beyond the stack', () => {
  // Valid JSON (JSON.parse takes it), but JSON.stringify overflows the stack on it.
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  let file: string;
  beforeAll(() => {
    file = join(tempDir(), 'warden-audit.jsonl');
    writeFileSync(file, `${line(1, 'c1', '')}\n${line(2, 'c1', `"reason":${deep},`)}\n${line(3, 'c1', '')}\n`);
  });

  for (const [name, args] of [
    ['tail', ['tail']],
    ['tail --json', ['tail', '--json']],
    ['show', ['show', 'c1']],
    ['show --json', ['show', 'c1', '--json']],
  ] as const) {
    it(`does not crash ${name} (the other records are still shown)`, () => {
      const r = cli([...args, '--file', file]);
      expect(r.stderr).not.toMatch(/call stack/);
      expect(r.code).toBe(0);
      // Records 1 and 3 are printed whole; record 2 with its deep value replaced.
      expect(r.stdout).toContain('nested too deep to print');
      if (name === 'show') expect(r.stdout).toMatch(/3 steps/);
      else for (const seq of [1, 2, 3]) expect(r.stdout).toMatch(new RegExp(`#${seq} |"seq": ?${seq}\\b`));
    });
  }

  it('tail --json still prints one parseable line per record', () => {
    const r = cli(['tail', '--json', '--file', file]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; reason?: unknown });
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(typeof lines[1]?.reason).toBe('string');
  });
});

describe('a log with many calls', () => {
  it('query prints its table for 200,000 calls (no spread of every row into Math.max)', () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const lines: string[] = [];
    for (let i = 1; i <= 200_000; i++) lines.push(line(i, `c${i}`, ''));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = cli(['query', '--file', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().endsWith('200000 call(s)')).toBe(true);
  }, 60_000);
});

describe('tail -f on a path that becomes a FIFO', () => {
  it('does not hang in open(2): it waits for a regular file and stops on SIGINT', async () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    writeFileSync(file, `${line(1, 'c1', '')}\n`);
    const child = spawn(process.execPath, [CLI, 'audit', 'tail', file, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const until = async (done: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 15_000; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => out.includes('#1 '));
    // Following now. The log is moved away and a FIFO put at its path (as after a rotation).
    renameSync(file, `${file}.old`);
    execFileSync('mkfifo', [file]);
    await until(() => err.includes('not a regular file'));
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('hung'), 5_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code).toBe(0);
    expect(err).toContain('not a regular file');
  }, 40_000);
});

describe('a record whose ts is not a string', () => {
  it('query still prints its table (every other call included)', () => {
    const file = join(tempDir(), 'warden-audit.jsonl');
    const forged = line(1, 'c1', '').replace(/"ts":"[^"]*"/, '"ts":5');
    writeFileSync(file, `${forged}\n${line(2, 'c2', '')}\n`);
    const r = cli(['query', '--file', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\bc1\b[\s\S]*\bc2\b[\s\S]*2 call\(s\)/);
  });
});

describe('deep arrays in the fields the readers turn into text (ts, sessionId, principal.user, rules)', () => {
  // String() and Date.parse() on such an array recurse through Array.prototype.join.
  const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
  let file: string;
  beforeAll(() => {
    file = join(tempDir(), 'warden-audit.jsonl');
    const lines = [
      line(1, 'c1', `"rules":[${deep}],`),
      line(2, 'c1', `"principal":{"user":${deep}},`),
      line(3, 'c1', `"sessionId":${deep},`).replace(/"ts":"[^"]*"/, `"ts":${deep}`),
      line(4, 'c1', ''),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
  });

  for (const args of [['tail'], ['show', 'c1'], ['query'], ['stats']]) {
    it(`does not crash ${args[0]}`, () => {
      const r = cli([...args, '--file', file]);
      expect(r.stderr).not.toMatch(/call stack|warden: /);
      expect(r.code).toBe(0);
    });
  }
});
