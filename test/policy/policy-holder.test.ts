import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WardenError } from '../../src/core/errors.js';
import type { CompiledPolicy } from '../../src/policy/compiled-policy.js';
import { createPolicyHolder, type PolicyHolder } from '../../src/policy/policy-holder.js';

const GOOD = 'version: 1\nrules: [{ id: a, action: block }]\n';
const GOOD2 = 'version: 2\nrules: [{ id: b, action: allow }]\n';
const BAD = 'version: 3\nrules: [{ id: c, action: maybe }]\n';

let dir: string;
let holder: PolicyHolder | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
});
afterEach(() => {
  holder?.close();
  rmSync(dir, { recursive: true, force: true });
});

function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (check() ? resolve() : Date.now() > until ? reject(new Error('timeout')) : setTimeout(tick, 20));
    tick();
  });
}

describe('createPolicyHolder', () => {
  it('fails at start-up on an invalid file, naming it', () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, BAD);
    expect(() => createPolicyHolder({ files: [file], watch: false })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });

  it('reload() swaps to a valid new policy and keeps the old one when the new one is invalid', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, GOOD);
    const loads: string[] = [];
    const errors: WardenError[] = [];
    holder = createPolicyHolder({ files: [file], watch: false, onLoad: (p) => loads.push(p.version), onError: (e) => errors.push(e) });
    expect(holder.current().version).toBe('1');
    writeFileSync(file, GOOD2);
    expect(await holder.reload()).toMatchObject({ ok: true, changed: true });
    expect(holder.current().version).toBe('2');
    const running = holder.current();
    expect(await holder.reload()).toMatchObject({ ok: true, changed: false });
    expect(holder.current()).toBe(running);
    writeFileSync(file, BAD);
    const failed = await holder.reload();
    expect(failed.ok).toBe(false);
    expect(holder.current().version).toBe('2');
    expect(errors[0]?.code).toBe('config_invalid');
    expect(errors[0]?.message).toContain('rules[0].action');
    expect(loads).toEqual(['1', '2']);
  });

  it('a policy changed after start-up read it and before it was watched is loaded (an edit landing in that window is not lost)', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, GOOD);
    let first = true;
    holder = createPolicyHolder({
      files: [file],
      debounceMs: 10,
      // Runs between the first read and the watch: stands for an edit landing while a large policy compiles.
      check: () => {
        if (first) writeFileSync(file, GOOD2);
        first = false;
      },
    });
    await waitFor(() => holder!.current().version === '2');
    expect(holder.current().version).toBe('2');
  });

  // The audit sink throws while unhealthy (disk full): its listeners must not turn a reload into a crash or a lie.
  it('a listener that throws (audit unavailable) neither reports a reload that took effect as failed nor crashes the watcher', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, GOOD);
    let armed = false;
    let errorsSeen = 0;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      holder = createPolicyHolder({
        files: [file], debounceMs: 30,
        onLoad: () => { if (armed) throw new Error('audit sink unavailable'); },
        onError: () => {
          errorsSeen += 1;
          throw new Error('audit sink unavailable');
        },
      });
      armed = true;
      writeFileSync(file, GOOD2);
      expect(await holder.reload()).toMatchObject({ ok: true, changed: true });
      expect(holder.current().version).toBe('2');
      // An invalid edit picked up by the watcher: onError throws inside the watcher's reload.
      writeFileSync(file, BAD);
      await waitFor(() => errorsSeen > 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(holder.current().version).toBe('2');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reloads on file change (debounced), including atomic replace by rename', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, GOOD);
    const seen: CompiledPolicy[] = [];
    holder = createPolicyHolder({ files: [file], debounceMs: 50, onLoad: (p) => seen.push(p) });
    const tmp = join(dir, 'p.yaml.tmp');
    writeFileSync(tmp, GOOD2);
    copyFileSync(tmp, file);
    await waitFor(() => holder?.current().version === '2');
    expect(seen.map((p) => p.version)).toEqual(['1', '2']);
  });

  it('an invalid edit on disk is reported and the running policy stays', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, GOOD);
    const errors: WardenError[] = [];
    holder = createPolicyHolder({ files: [file], debounceMs: 30, onError: (e) => errors.push(e) });
    writeFileSync(file, BAD);
    await waitFor(() => errors.length > 0);
    expect(holder.current().version).toBe('1');
  });
});
