import { readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryFile, readRegistryFile, writeRegistryFile } from '../../src/events/registry-file.js';
import type { RegistryEntry, SubjectEffect } from '../../src/events/registry-entry.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { tempDir } from '../helpers/warden-process.js';
import { MemoryAudit, principal } from './set-helpers.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const revokeEntry = (id: string, user: string, expiresAt = T0 + HOUR): RegistryEntry => ({
  kind: 'revoke', id, match: { user }, at: T0, eventId: `manual:${id}`, reason: 'test', by: 'admin:ops', expiresAt,
});

/** A registry as `warden run` builds it, on `file`, with its own clock. */
function registryOn(file: string, now = () => T0, onRevoke?: (e: SubjectEffect) => void): SubjectRegistry {
  return new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: now, file: new RegistryFile(file), ...(onRevoke ? { onRevoke } : {}) });
}

describe('revocations file', () => {
  it('round-trips entries, owner-only, and drops expired ones on read', () => {
    const file = join(tempDir('warden-revfile-'), '.warden', 'revocations.json');
    writeRegistryFile(file, [revokeEntry('a', 'alice'), revokeEntry('old', 'bob', T0 - 1)], T0);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(readRegistryFile(file, T0).map((e) => e.id)).toEqual(['a']);
    expect(readRegistryFile(file, T0 + HOUR)).toEqual([]);
  });

  it('merges with entries another warden wrote, instead of overwriting them', () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    writeRegistryFile(file, [revokeEntry('theirs', 'alice')], T0);
    writeRegistryFile(file, [revokeEntry('mine', 'bob')], T0);
    expect(readRegistryFile(file, T0).map((e) => e.id).sort()).toEqual(['mine', 'theirs']);
  });

  it('a symlink planted at the temp file name is not followed (the file it points to stays intact)', () => {
    const dir = tempDir('warden-revfile-');
    const file = join(dir, 'revocations.json');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, `.revocations.json.${process.pid}.tmp`));
    writeRegistryFile(file, [revokeEntry('a', 'alice')], T0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readRegistryFile(file, T0).map((e) => e.id)).toEqual(['a']);
  });

  it('a missing file is an empty set', () => {
    expect(readRegistryFile(join(tempDir('warden-revfile-'), 'none.json'), T0)).toEqual([]);
  });

  it.each([
    ['not JSON', '{"v":1,', /not JSON/],
    ['a wrong version', '{"v":2,"entries":[]}', /v:/],
    ['an entry without a subject', JSON.stringify({ v: 1, entries: [{ ...revokeEntry('x', 'a'), match: {} }] }), /entries\.0\.match/],
    ['an unknown kind', JSON.stringify({ v: 1, entries: [{ ...revokeEntry('x', 'a'), kind: 'allow_all' }] }), /entries\.0\.kind/],
  ])('refuses a file with %s, naming the file and the key (revocations are never dropped silently)', (_name, body, message) => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    writeFileSync(file, body);
    let caught: unknown;
    try {
      readRegistryFile(file, T0);
    } catch (err) {
      caught = err;
    }
    expect((caught as { code?: string }).code).toBe('registry_file_invalid');
    expect((caught as Error).message).toContain(file);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('subject registry on a revocations file', () => {
  it('a user revoked before a restart stays revoked after it', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    await registryOn(file).revokeManually({ user: 'alice' }, 'admin:ops');
    const restarted = registryOn(file);
    await restarted.load();
    expect(restarted.evaluate(principal(), 's', T0 + 1)).toMatchObject({ kind: 'revoked' });
  });

  it('a start-up refuses an unreadable file rather than forgetting what it revoked', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    writeFileSync(file, 'garbage');
    await expect(registryOn(file).load()).rejects.toMatchObject({ code: 'registry_file_invalid' });
  });

  it('picks up a revocation another warden sharing the file made', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const here = registryOn(file);
    await here.load();
    const stop = here.followFile(20);
    try {
      await registryOn(file).revokeManually({ agent: 'agent-7' }, 'admin:ops');
      const alice = principal();
      await expect.poll(() => here.evaluate(alice, 's', T0 + 1).kind, { timeout: 3000 }).toBe('revoked');
    } finally {
      stop();
    }
  });

  it('puts back its own revocation when a concurrent save by another warden dropped it', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const here = registryOn(file);
    await here.load();
    const stop = here.followFile(20);
    try {
      await here.revokeManually({ user: 'alice' }, 'admin:ops');
      const mine = here.list().map((e) => e.id);
      // Another warden read the file before our save and renamed its own version over it.
      writeFileSync(file, JSON.stringify({ v: 1, entries: [revokeEntry('theirs', 'bob')] }));
      await expect.poll(() => readRegistryFile(file, T0).map((e) => e.id).sort(), { timeout: 3000 }).toEqual([...mine, 'theirs'].sort());
      expect(here.evaluate(principal({ user: 'bob' }), 's', T0 + 1).kind).toBe('revoked');
    } finally {
      stop();
    }
  });

  it('takes in another warden\'s revocation that its own save merged before it looked (no lost revocation)', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const a = registryOn(file);
    const b = registryOn(file);
    await a.load();
    await b.load();
    await b.revokeManually({ user: 'alice' }, 'admin:ops');
    // A saves its own before it ever looked at the file: the merge carried alice's entry.
    await a.revokeManually({ user: 'bob' }, 'admin:ops');
    expect(a.evaluate(principal({ user: 'alice' }), 's', T0 + 1).kind).toBe('revoked');
  });

  it('reacts to a revocation another warden made as to its own (withdraws approvals, closes sessions)', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const effects: SubjectEffect[] = [];
    const here = registryOn(file, () => T0, (e) => void effects.push(e));
    await here.load();
    const stop = here.followFile(20);
    try {
      await registryOn(file).revokeManually({ user: 'alice' }, 'admin:ops');
      await expect.poll(() => effects.map((e) => e.match), { timeout: 3000 }).toEqual([{ user: 'alice' }]);
    } finally {
      stop();
    }
  });

  it('writes the file back when it was deleted under a running warden (the next warden would start without it)', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const here = registryOn(file);
    await here.load();
    await here.revokeManually({ user: 'alice' }, 'admin:ops');
    const stop = here.followFile(20);
    try {
      rmSync(file);
      await expect.poll(() => readRegistryFile(file, T0).length, { timeout: 3000 }).toBe(1);
    } finally {
      stop();
    }
  });

  it('a revocation whose file write fails is in force and reported as not saved', async () => {
    const dir = tempDir('warden-revfile-');
    // The file's folder is a regular file: no write can succeed there, not even as root.
    writeFileSync(join(dir, 'not-a-folder'), '');
    const registry = registryOn(join(dir, 'not-a-folder', 'revocations.json'));
    const result = await registry.revokeManually({ user: 'alice' }, 'admin:ops');
    expect(result.saved).toBe(false);
    expect(registry.evaluate(principal(), 's', T0 + 1).kind).toBe('revoked');
  });

  it('a mass revocation (300 at once) is written in a few saves, and every entry is in the file after', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    let saves = 0;
    const counting = new (class extends RegistryFile {
      override save(entries: readonly RegistryEntry[], now: number): Promise<RegistryEntry[]> {
        saves += 1;
        return super.save(entries, now);
      }
    })(file);
    const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0, file: counting });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => registry.revokeManually({ user: `user-${i}` }, 'admin:ops')));
    expect(results.every((r) => r.saved)).toBe(true);
    expect(saves).toBeLessThanOrEqual(3);
    expect(readRegistryFile(file, T0).map((e) => e.match.user).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `user-${i}`).sort());
    const restarted = registryOn(file);
    await restarted.load();
    expect(restarted.evaluate(principal({ user: 'user-299' }), 's', T0 + 1).kind).toBe('revoked');
  });

  it('merges a file another warden wrote even when it has the size and modification time of its own (a replacement is a new file)', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const here = registryOn(file);
    await here.load();
    await here.revokeManually({ user: 'alice' }, 'admin:ops');
    // Whole seconds, so the other file can be given exactly the same modification time; load()
    // takes the file in again as what this warden last saw.
    const mtime = Math.floor(statSync(file).mtimeMs / 1000);
    utimesSync(file, mtime, mtime);
    await here.load();
    const text = readFileSync(file, 'utf8');
    // Another warden's version: same length (one id swapped for another of equal length), same mtime.
    const mine = here.list()[0]!;
    const theirs = { ...mine, id: mine.id.replace(/^./, (c) => (c === 'f' ? 'e' : 'f')), match: { user: 'bobby' } };
    const other = `{"v":1,"entries":[\n${JSON.stringify(theirs)}\n]}\n`;
    expect(Buffer.byteLength(other)).toBe(Buffer.byteLength(text));
    const tmp = `${file}.other`;
    writeFileSync(tmp, other, { mode: 0o600 });
    utimesSync(tmp, mtime, mtime);
    renameSync(tmp, file);
    expect(statSync(file).mtimeMs).toBe(mtime * 1000);
    await here.revokeManually({ user: 'carol' }, 'admin:ops');
    expect(readRegistryFile(file, T0).map((e) => e.match.user).sort()).toEqual(['alice', 'bobby', 'carol']);
    expect(here.evaluate(principal({ user: 'bobby' }), 's', T0 + 1).kind).toBe('revoked');
  });

  it('the file holds one entry per line (readable) and still loads after a restart', async () => {
    const file = join(tempDir('warden-revfile-'), 'revocations.json');
    const registry = registryOn(file);
    await registry.revokeManually({ user: 'alice' }, 'admin:ops');
    await registry.revokeManually({ user: 'bob' }, 'admin:ops');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('{"v":1,"entries":[');
    expect(lines[3]).toBe(']}');
    expect(readRegistryFile(file, T0).map((e) => e.match.user).sort()).toEqual(['alice', 'bob']);
  });
});
