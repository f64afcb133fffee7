import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirectories } from '../../src/core/make-directories.js';

const temp = (): string => mkdtempSync(join(tmpdir(), 'make-dirs-'));

describe('makeDirectories (mkdir -p that fails where Node spins)', () => {
  it('makes every missing folder, with the mode asked for', () => {
    const dir = join(temp(), 'a', 'b', 'c');
    makeDirectories(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(join(dir, '..')).mode & 0o777).toBe(0o700 & ~process.umask());
  });

  it('is a no-op for a folder that is there', () => {
    const dir = temp();
    expect(() => makeDirectories(dir)).not.toThrow();
  });

  it.each([
    ['the folder itself is a file', (root: string) => join(root, 'file'), 'EEXIST'],
    ['a file is in the way of its parent (ENOTDIR from stat)', (root: string) => join(root, 'file', 'sub'), 'ENOTDIR'],
  ])('throws mkdir\'s own error when %s, as mkdir -p does (not a silent success the writer trips over later)', (_name, pathIn, code) => {
    const root = temp();
    writeFileSync(join(root, 'file'), 'x');
    expect(() => makeDirectories(pathIn(root))).toThrow(expect.objectContaining({ code }));
  });
});
