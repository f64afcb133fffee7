import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { WardenError } from '../core/errors.js';
import { openTempExclusive, openTempExclusiveAsync } from '../core/exclusive-temp.js';
import type { RegistryEntry } from './registry-entry.js';
import { makeDirectories } from '../core/make-directories.js';

/**
 * The subject registry's entries (revocations, step-ups, claim overrides) on disk, so they
 * survive a restart. Without it a `warden revoke --user alice` lasted only until the next start,
 * and a stdio warden starts again with every agent launch: the revoked token worked again.
 *
 * One small JSON file, replaced whole (temp file, fsync, rename) on every change. Wardens that
 * share the file (several stdio agents with one config) merge on write, by entry id, and pick
 * up each other's entries when the file changes. A save reads the file only when someone else
 * changed it since this process last read or wrote it: in a mass revocation, re-reading and
 * re-validating thousands of entries on every save made each save cost far more than the write.
 */
export const REGISTRY_FILE_VERSION = 1;

const text = z.string().min(1);
const SubjectMatchSchema = z
  .strictObject({
    issuer: text.optional(),
    user: text.optional(),
    email: text.optional(),
    idpSession: text.optional(),
    wardenSession: text.optional(),
    agent: text.optional(),
    device: text.optional(),
  })
  // An entry matching everyone would block every call: never load one (the registry refuses to make one).
  .refine((m) => Object.keys(m).length > 0, 'a subject needs at least one identifier');

const common = {
  id: text,
  match: SubjectMatchSchema,
  at: z.number().finite(),
  eventId: text,
  reason: z.string(),
  expiresAt: z.number().finite(),
};

const RegistryEntrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('revoke'), ...common, by: z.string() }),
  z.strictObject({
    kind: z.literal('step_up'),
    ...common,
    minSensitivity: z.enum(['low', 'medium', 'high', 'critical']),
    action: z.enum(['approve', 'block']),
  }),
  z.strictObject({ kind: z.literal('claims'), ...common, claims: z.record(z.string(), z.unknown()) }),
]);

const RegistryFileSchema = z.strictObject({
  v: z.literal(REGISTRY_FILE_VERSION),
  entries: z.array(RegistryEntrySchema),
});

/** The file's identity as last seen: a change of any part means another process wrote it. */
export interface FileStamp {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly size: number;
}

const stampFrom = (s: Pick<Stats, 'ino' | 'mtimeMs' | 'size'>): FileStamp => ({ ino: s.ino, mtimeMs: s.mtimeMs, size: s.size });

export function stampOf(path: string): FileStamp | undefined {
  try {
    return stampFrom(statSync(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Both absent, or the same file with the same size and modification time. */
export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

/**
 * The live entries in the file; none when it does not exist. A file that is there but unreadable
 * or invalid is an error naming the file and the bad key: forgetting revocations silently would
 * let revoked tokens work again.
 */
export function readRegistryFile(path: string, now: number): RegistryEntry[] {
  let raw: string;
  try {
    raw = readOwnFile(path);
  } catch (err) {
    if (err instanceof WardenError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WardenError('registry_file_unreadable', `${path}: cannot read the revocations file: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new WardenError('registry_file_invalid', `${path}: not JSON (${(err as Error).message}); move it aside only if you mean to drop every revocation in it`);
  }
  const parsed = RegistryFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new WardenError('registry_file_invalid', `${path}: ${at}: ${issue?.message ?? 'invalid'}`);
  }
  return (parsed.data.entries as RegistryEntry[]).filter((e) => e.expiresAt > now);
}

/**
 * The file's text, when it is a regular file that only this user can write. It carries claim
 * overrides (claims and scopes policy trusts) and revocations: a file someone else may write
 * (planted in a shared folder, or loosened) is refused, never taken in. Checked on the opened
 * file, so a swap between check and read does not matter; O_NONBLOCK so a FIFO cannot hang us.
 */
function readOwnFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (process.platform !== 'win32' && ((uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0))) {
      throw new WardenError(
        'registry_file_insecure',
        `${path}: the revocations file must be a regular file owned by this user and writable by nobody else (it is written 0600); check who changed it, then fix its owner/mode or move it aside`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** `entries` and `onDisk` by entry id (an id in both is the same entry), live ones only, in a stable order. */
function mergeEntries(onDisk: readonly RegistryEntry[], entries: readonly RegistryEntry[], now: number): RegistryEntry[] {
  const byId = new Map<string, RegistryEntry>();
  for (const e of onDisk) if (e.expiresAt > now) byId.set(e.id, e);
  for (const e of entries) if (e.expiresAt > now) byId.set(e.id, e);
  // Code-unit order, not localeCompare: the same order everywhere, and a tenth of the cost.
  return [...byId.values()].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What the file holds now, for a merge; a file we cannot read now is not merged (its entries were loaded at start or by the poll): it is replaced. */
function entriesToMerge(path: string, now: number): RegistryEntry[] {
  try {
    return readRegistryFile(path, now);
  } catch {
    return [];
  }
}

/** Entries do not change once made: each one's text is built once, not at every save. */
const entryTexts = new WeakMap<RegistryEntry, string>();

/**
 * The file's text: one entry per line, so it stays readable and diffable. Indented JSON of the
 * whole file cost most of a save at a few thousand entries.
 */
function registryText(merged: readonly RegistryEntry[]): string {
  const lines = merged.map((e) => {
    let text = entryTexts.get(e);
    if (text === undefined) {
      text = JSON.stringify(e);
      entryTexts.set(e, text);
    }
    return text;
  });
  return `{"v":${REGISTRY_FILE_VERSION},"entries":[${lines.length === 0 ? '' : `\n${lines.join(',\n')}\n`}]}\n`;
}
const tempPathFor = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

/**
 * Writes `entries` merged with what the file holds now (another warden may have added some),
 * dropping expired ones. Atomic: readers see the old file or the new one, never a torn one.
 * Returns the entries written.
 */
export function writeRegistryFile(path: string, entries: readonly RegistryEntry[], now: number): RegistryEntry[] {
  const merged = mergeEntries(entriesToMerge(path, now), entries, now);
  makeDirectories(dirname(path), 0o700);
  const tmp = tempPathFor(path);
  const fd = openTempExclusive(tmp, 0o600);
  try {
    writeSync(fd, registryText(merged));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return merged;
}

/**
 * writeRegistryFile off the event loop: the write, fsync and rename (what a save costs on a real
 * disk) run on libuv's threads while tool calls go on. Returns the entries written and the stamp
 * of the file written, taken from the open file before the rename: a stat after it could see a
 * file another warden renamed over ours meanwhile, whose entries would then never be read.
 * One at a time per path and process (the temp name is per process): see CoalescingSaver.
 */
async function replaceRegistryFile(path: string, merged: readonly RegistryEntry[]): Promise<FileStamp> {
  // Synchronous and one stat when the folder is there (every save after the first): the
  // recursive async mkdir spins like the synchronous one where mkdir(2) answers ENOENT (make-directories.ts).
  makeDirectories(dirname(path), 0o700);
  const tmp = tempPathFor(path);
  const handle = await openTempExclusiveAsync(tmp, 0o600);
  let stamp: FileStamp;
  try {
    await handle.writeFile(registryText(merged));
    await handle.sync();
    stamp = stampFrom(await handle.stat());
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
  return stamp;
}

/**
 * One registry's view of the file: loads it, notices when another process rewrote it (by size
 * and mtime, polled: a watch on a file that does not exist yet would watch its folder, which
 * holds the audit log and would wake warden on every audit write), and saves.
 */
export class RegistryFile {
  private stamp: FileStamp | undefined;

  constructor(readonly path: string) {}

  /** The live entries on disk. Throws on a bad file (start-up refuses it). */
  load(now: number): RegistryEntry[] {
    // Stamped before the read: a write landing in between then shows at the next look, rather
    // than being taken for the version read.
    const stamp = stampOf(this.path);
    const entries = readRegistryFile(this.path, now);
    this.stamp = stamp;
    return entries;
  }

  /**
   * The live entries when the file changed since it was last read or written here, else
   * undefined; `[]` when it was removed (the caller writes its entries back). A file that cannot
   * be read is not read again until it changes (a huge one would stall the event loop on every
   * look); the error is thrown once.
   */
  poll(now: number): RegistryEntry[] | undefined {
    const stamp = stampOf(this.path);
    if (stamp === undefined) return this.stamp === undefined ? undefined : ((this.stamp = undefined), []);
    if (sameStamp(stamp, this.stamp)) return undefined;
    this.stamp = stamp;
    return this.load(now);
  }

  /**
   * Writes `entries` merged with the file; returns everything now in it (others' entries too).
   * Reads the file first only when it changed since this process last read or wrote it: else it
   * holds nothing `entries` lacks (the caller's entries include all it loaded). Never two at once
   * for one RegistryFile (the caller serialises them).
   */
  async save(entries: readonly RegistryEntry[], now: number): Promise<RegistryEntry[]> {
    const current = stampOf(this.path);
    const merged = mergeEntries(sameStamp(current, this.stamp) ? [] : entriesToMerge(this.path, now), entries, now);
    this.stamp = await replaceRegistryFile(this.path, merged);
    return merged;
  }
}
