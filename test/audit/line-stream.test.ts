import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineSplitter, readLines, type Line } from '../../src/audit/line-stream.js';
import { tempDir } from './audit-test-helpers.js';

const dir = tempDir('warden-lines-');
let n = 0;

function fileWith(content: string | Buffer): string {
  const f = join(dir, `f${n++}.txt`);
  writeFileSync(f, content);
  return f;
}

/** What each line should be, from splitting the whole decoded text (the old, unbounded way). */
function expected(content: string): Pick<Line, 'line' | 'text' | 'terminated'>[] {
  const parts = content.split('\n');
  const clean = parts.at(-1) === '';
  if (clean) parts.pop();
  return parts.map((text, i) => ({ line: i + 1, text, terminated: clean || i < parts.length - 1 }));
}

const strip = (ls: Iterable<Line>): Pick<Line, 'line' | 'text' | 'terminated'>[] => [...ls].map(({ line, text, terminated }) => ({ line, text, terminated }));

/** Feeds `bytes` to a splitter as two chunks cut at `at`. */
function splitAt(bytes: Buffer, at: number, max?: number): Line[] {
  const s = new LineSplitter('mem', max);
  const out = [...s.push(bytes.subarray(0, at)), ...s.push(bytes.subarray(at))];
  const last = s.end();
  return last ? [...out, last] : out;
}

const SAMPLE = '{"a":1}\n\nline three is longer than the others\nx\n{"tail":true}';
const UNICODE = 'héllo wörld\n漢字テキスト\n🙂🙃 emoji 👩‍👩‍👧 family\nmixed é漢🙂\n';

describe('readLines', () => {
  it.each([1, 2, 3, 5, 7, 64, 1 << 20])('matches a whole-text split with %i-byte chunks', (chunkBytes) => {
    expect(strip(readLines(fileWith(SAMPLE), { chunkBytes }))).toEqual(expected(SAMPLE));
    expect(strip(readLines(fileWith(UNICODE), { chunkBytes }))).toEqual(expected(UNICODE));
  });

  it('splits a line at every byte position, multi-byte characters included', () => {
    for (const content of [SAMPLE, UNICODE]) {
      const bytes = Buffer.from(content);
      for (let at = 0; at <= bytes.length; at++) expect(strip(splitAt(bytes, at)), `cut at ${at}`).toEqual(expected(content));
    }
  });

  it('reports byte lengths, not character counts', () => {
    const [a, b] = [...readLines(fileWith('🙂\n漢字\n'), { chunkBytes: 1 })];
    expect([a?.bytes, b?.bytes]).toEqual([4, 6]);
  });

  it('keeps a CR before the LF (verify must see the exact bytes)', () => {
    expect(strip(readLines(fileWith('a\r\nb\r\n'), { chunkBytes: 2 }))).toEqual([
      { line: 1, text: 'a\r', terminated: true },
      { line: 2, text: 'b\r', terminated: true },
    ]);
  });

  it('marks a last line without a newline as unterminated; an empty file has no lines', () => {
    expect(strip(readLines(fileWith('a\nb'), { chunkBytes: 1 }))).toEqual([
      { line: 1, text: 'a', terminated: true },
      { line: 2, text: 'b', terminated: false },
    ]);
    expect([...readLines(fileWith(''))]).toEqual([]);
    expect(strip(readLines(fileWith('\n')))).toEqual([{ line: 1, text: '', terminated: true }]);
  });

  it('does not hold an over-long line: keeps its head and length, and the next line is intact', () => {
    const long = `{"x":"${'y'.repeat(200)}"}`;
    for (const chunkBytes of [1, 3, 16, 4096]) {
      const lines = [...readLines(fileWith(`ok\n${long}\nafter\n${long}`), { chunkBytes, maxLineBytes: 32 })];
      expect(lines.map((l) => [l.text, l.bytes, l.tooLong, l.terminated])).toEqual([
        ['ok', 2, false, true],
        [long.slice(0, 32), long.length, true, true],
        ['after', 5, false, true],
        [long.slice(0, 32), long.length, true, false],
      ]);
    }
  });

  it('a line of exactly the bound is not over-long', () => {
    const lines = [...readLines(fileWith('abcd\nabcde\n'), { chunkBytes: 2, maxLineBytes: 4 })];
    expect(lines.map((l) => l.tooLong)).toEqual([false, true]);
  });

  it('throws the fs error of a missing file', () => {
    expect(() => [...readLines(join(dir, 'missing.jsonl'))]).toThrow(/ENOENT/);
  });
});
