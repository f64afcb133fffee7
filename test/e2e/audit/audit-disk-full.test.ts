import { closeSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { verifyAuditFiles } from '../../../src/audit/verify-audit.js';
import { unauditedCalls } from '../../helpers/audit-e2e-kill-loop.js';
import {
  acmeUpstream, decisionMeta, readAudit, readCallLog, startStdioWarden, wardenDir, writeConfig, type StdioWarden, type WardenDir,
} from '../../helpers/audit-e2e-warden.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { fillFileSystem, mountTmpfs as mountTiny, unmountTmpfs } from '../../helpers/tiny-tmpfs.js';

// Real processes on a shared 2-core machine: generous per-test limits; each wait has its own deadline.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

/**
 * Disk full through the real warden: while the audit file cannot be written, every call is
 * blocked with reason `audit_unavailable` and never reaches the upstream; once space is back the
 * sink reopens the path, writes `audit.recovered`, and calls pass again. Two ways to fill the
 * disk: a real 256 KiB tmpfs (needs mount permission) and the audit path as a symlink retargeted
 * to /dev/full (always runs).
 */
function config(d: WardenDir, auditFile: string): void {
  writeConfig(d, {
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: acmeUpstream(d) },
    logging: { level: 'fatal' },
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    control: { enabled: false },
    pins: { enabled: false },
    audit: { file: auditFile },
  });
}

type Outcome = { nonce: string; blocked: boolean; reason?: string };

async function echo(w: StdioWarden, nonce: string): Promise<Outcome> {
  const res = await w.client.callTool({ name: 'echo', arguments: { message: nonce } });
  const meta = decisionMeta(res);
  return meta ? { nonce, blocked: true, reason: meta.reason } : { nonce, blocked: false };
}

/** Calls until `done(outcome)` or the deadline; returns every outcome. */
async function callUntil(w: StdioWarden, tag: string, done: (o: Outcome) => boolean, ms: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const o = await echo(w, `${tag}-${i}`);
    out.push(o);
    if (done(o)) return out;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${tag}: condition not reached in ${ms} ms (${out.length} calls)`);
}

/** The shared story: pass → disk full → blocked, upstream untouched → space back → recovered, pass. */
async function diskFullStory(d: WardenDir, auditPath: string, checkpoint: string, fill: () => void, free: () => void): Promise<void> {
  const w = await startStdioWarden(d.configFile);
  try {
    expect((await echo(w, 'before-full')).blocked).toBe(false);
    fill();
    const full = await callUntil(w, 'while-full', (o) => o.blocked, 8000);
    const blocked = full.filter((o) => o.blocked);
    expect(blocked.every((o) => o.reason === 'audit_unavailable')).toBe(true);
    // A few more while full: all blocked, none forwarded.
    for (let i = 0; i < 3; i++) blocked.push(await echo(w, `still-full-${i}`));
    expect(blocked.every((o) => o.blocked && o.reason === 'audit_unavailable')).toBe(true);
    // Reading a resource while nothing can be recorded is refused too: no unaudited data leaves.
    const read = await w.client.readResource({ uri: 'acme://files/docs/readme.txt' }).then(() => undefined, (err: { data?: { reason?: string } }) => err);
    expect(read?.data?.reason).toBe('audit_unavailable');
    // So are a completion (it lists what exists) and a subscription: judged, they need the record first.
    const refusedWith = (p: Promise<unknown>) => p.then(() => undefined, (err: { code?: number; data?: { reason?: string } }) => err);
    const completion = await refusedWith(w.client.complete({ ref: { type: 'ref/resource', uri: 'acme://files{+path}' }, argument: { name: 'path', value: '/docs' } }));
    expect(completion).toMatchObject({ code: -32010, data: { reason: 'audit_unavailable' } });
    const subscription = await refusedWith(w.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' }));
    expect(subscription).toMatchObject({ code: -32010, data: { reason: 'audit_unavailable' } });
    free();
    const after = await callUntil(w, 'after-free', (o) => !o.blocked, 10_000);
    expect(after.filter((o) => o.blocked).every((o) => o.reason === 'audit_unavailable')).toBe(true);
    expect((await echo(w, 'after-recovery')).blocked).toBe(false);
    const received = new Set(readCallLog(d.callLog).map((c) => String(c.arguments.message)));
    for (const o of blocked) expect(received.has(o.nonce), `${o.nonce} reached the upstream`).toBe(false);
    expect(received.has('after-recovery')).toBe(true);
  } finally {
    await w.close();
  }
  const records = readAudit(auditPath);
  const recovered = records.find((r) => r.type === 'audit.recovered');
  expect(recovered).toBeDefined();
  expect(recovered!.rejectedRecords).toEqual(expect.any(Number));
  expect(records.some((r) => r.type === 'warden.stop')).toBe(true);
  expect(unauditedCalls({ ...d, auditFile: auditPath }).missing).toEqual([]);
  const report = verifyAuditFiles([auditPath], { checkpoint });
  expect(report.problem, JSON.stringify(report.problem)).toBeUndefined();
  expect(report.ok).toBe(true);
}

const mountTmpfs = (dir: string): boolean => mountTiny(dir, '256k');
const unmount = unmountTmpfs;

// Probe once at collection time (and unmount at once): the variant runs only where mount works.
const probe = wardenDir('warden-e2e-diskfull-probe-');
const canMount = mountTmpfs(join(probe.dir, 'mnt'));
if (canMount) unmount(join(probe.dir, 'mnt'));

describe('audit disk full through a real warden', () => {
  it('symlinked audit path retargeted to /dev/full (ENOSPC): calls blocked with audit_unavailable, upstream never called; retargeted back: audit.recovered, calls pass', async () => {
    const d = wardenDir('warden-e2e-diskfull-link-');
    mkdirSync(join(d.dir, 'real'));
    const real = join(d.dir, 'real', 'audit.jsonl');
    closeSync(openSync(real, 'a'));
    symlinkSync(real, d.auditFile);
    config(d, d.auditFile);
    // rename(2) swaps the link atomically, as an operator (or a failing mount) would.
    const retarget = (to: string): void => {
      const tmp = `${d.auditFile}.tmp`;
      symlinkSync(to, tmp);
      renameSync(tmp, d.auditFile);
    };
    // The checkpoint sits next to the configured path (the link), not its target.
    await diskFullStory(d, real, join(d.dir, 'audit.checkpoint.json'), () => retarget('/dev/full'), () => retarget(real));
    expect(readAudit(real).find((r) => r.type === 'audit.recovered')).toMatchObject({ reason: 'file_replaced' });
  }, 40_000);

  it.runIf(canMount)('a real 256 KiB tmpfs filled up: calls blocked with audit_unavailable, upstream never called; space freed: audit.recovered, calls pass', async () => {
    const tmpfsDir = wardenDir('warden-e2e-diskfull-tmpfs-');
    const mnt = join(tmpfsDir.dir, 'mnt');
    expect(mountTmpfs(mnt)).toBe(true);
    const auditPath = join(mnt, 'audit.jsonl');
    config(tmpfsDir, auditPath);
    const filler = join(mnt, 'filler');
    const fill = (): void => fillFileSystem(filler);
    try {
      await diskFullStory(tmpfsDir, auditPath, join(mnt, 'audit.checkpoint.json'), fill, () => rmSync(filler));
      expect(readAudit(auditPath).find((r) => r.type === 'audit.recovered')).toMatchObject({ reason: 'write_failed', errorCode: 'ENOSPC' });
    } finally {
      unmount(mnt);
    }
  }, 40_000);
});
