import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFile } from '../../src/core/watch-file.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inodes this process holds inotify watches on (Linux: /proc/self/fdinfo of the inotify fds). */
function inotifyWatchedInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const m of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.add(Number.parseInt(m[1]!, 16));
  }
  return inodes;
}

/** Counts onChange calls; `until` waits (bounded) for the count to pass a mark. */
function counter() {
  let n = 0;
  return {
    hit: () => {
      n += 1;
    },
    get count() {
      return n;
    },
    async until(atLeast: number, ms = 3_000): Promise<void> {
      const end = Date.now() + ms;
      while (n < atLeast && Date.now() < end) await sleep(10);
      expect(n).toBeGreaterThanOrEqual(atLeast);
    },
  };
}

describe('watchFile', () => {
  const stops: (() => void)[] = [];
  const dirs: string[] = [];
  const folder = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'warden-watch-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reports a write in place', async () => {
    const file = join(folder(), 'policy.yaml');
    writeFileSync(file, 'a');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    appendFileSync(file, 'b');
    await c.until(1);
  });

  it('follows an atomic replacement (temp file renamed over) and keeps reporting later changes', async () => {
    const dir = folder();
    const file = join(dir, 'pins.json');
    writeFileSync(file, '1');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    writeFileSync(join(dir, 'pins.json.tmp'), '2');
    renameSync(join(dir, 'pins.json.tmp'), file);
    await c.until(1);
    // The watch moved to the new inode: a later in-place write to it is still seen.
    await sleep(50);
    const before = c.count;
    appendFileSync(file, '3');
    await c.until(before + 1);
  });

  it('reports a file that appears after the watch started, then its changes', async () => {
    const file = join(folder(), 'token');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    writeFileSync(file, 'eyJ...');
    await c.until(1);
    await sleep(50);
    const before = c.count;
    appendFileSync(file, 'more');
    await c.until(before + 1);
  });

  it('reports removal and a later re-creation', async () => {
    const file = join(folder(), 'policy.yaml');
    writeFileSync(file, 'a');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    rmSync(file);
    await c.until(1);
    await sleep(50);
    const before = c.count;
    writeFileSync(file, 'b');
    await c.until(before + 1);
  });

  // `git checkout -- policy.yaml`, `rm f && cp x f`: on ext4 the new file often gets the old inode number.
  it('keeps watching after the file is deleted and re-created at once, again and again', async () => {
    const file = join(folder(), 'policy.yaml');
    writeFileSync(file, 'a');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    for (let round = 1; round <= 3; round++) {
      const before = c.count;
      rmSync(file);
      writeFileSync(file, `v${round}`);
      await c.until(before + 1);
      await sleep(50);
      const mid = c.count;
      appendFileSync(file, ' edited in place');
      await c.until(mid + 1);
      await sleep(50);
    }
  });

  it('finds the file again after its folder was removed and re-created', async () => {
    const dir = folder();
    const file = join(dir, 'pins.json');
    writeFileSync(file, '{}');
    const c = counter();
    stops.push(watchFile(file, c.hit, { retryMs: 50 }));
    rmSync(dir, { recursive: true, force: true });
    await c.until(1);
    await sleep(100);
    mkdirSync(dir);
    writeFileSync(file, '{"v":2}');
    const before = c.count;
    await c.until(before + 1);
    await sleep(50);
    const mid = c.count;
    appendFileSync(file, ' ');
    await c.until(mid + 1);
  });

  it('is not woken by writes to other files in the same folder (an audit log beside the pin file)', async () => {
    const dir = folder();
    const file = join(dir, 'pins.json');
    writeFileSync(file, '{}');
    const c = counter();
    stops.push(watchFile(file, c.hit));
    const audit = join(dir, 'audit.jsonl');
    for (let i = 0; i < 50; i++) appendFileSync(audit, `{"seq":${i}}\n`);
    writeFileSync(join(dir, 'other.tmp'), 'x');
    renameSync(join(dir, 'other.tmp'), join(dir, 'other'));
    await sleep(300);
    expect(c.count).toBe(0);
    // Still watching the file itself.
    appendFileSync(file, ' ');
    await c.until(1);
  });

  // The cost is the wake-up itself, which a callback count cannot see: check what the kernel watches.
  it.runIf(process.platform === 'linux')('watches the file itself, not its folder (audit writes beside it would wake warden)', async () => {
    const dir = folder();
    const file = join(dir, 'pins.json');
    writeFileSync(file, '{}');
    stops.push(watchFile(file, () => {}));
    const watched = inotifyWatchedInodes();
    expect(watched.has(statSync(file).ino)).toBe(true);
    expect(watched.has(statSync(dir).ino)).toBe(false);
  });

  it('stops reporting once stopped', async () => {
    const file = join(folder(), 'policy.yaml');
    writeFileSync(file, 'a');
    const c = counter();
    const stop = watchFile(file, c.hit);
    stop();
    appendFileSync(file, 'b');
    await sleep(300);
    expect(c.count).toBe(0);
  });

  it('reports a folder it cannot watch through onError instead of throwing', () => {
    const errors: Error[] = [];
    const stop = watchFile(join(folder(), 'missing-folder', 'token'), () => {}, { onError: (e) => errors.push(e) });
    stops.push(stop);
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
