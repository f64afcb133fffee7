import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { WardenError } from '../core/errors.js';
import { openTempExclusive } from '../core/exclusive-temp.js';
import type { RegistryEntry } from './registry-entry.js';

/**
 * The subject registry's entries (revocations, step-ups, claim overrides) on disk, so they
 * survive a restart. Without it a `warden revoke --user alice` lasted only until the next start,
 * and a stdio warden starts again with every agent launch: the revoked token worked again.
 *
 * One small JSON file, replaced whole (temp file, fsync, rename) on every change. Wardens that
 * share the file (several stdio agents with one config) merge on write, by entry id, and pick
 * up each other's entries when the file changes.
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

/** The file's identity as last seen: a change of either means another process wrote it. */
export interface FileStamp {
  readonly mtimeMs: number;
  readonly size: number;
}

export function stampOf(path: string): FileStamp | undefined {
  try {
    const s = statSync(path);
    return { mtimeMs: s.mtimeMs, size: s.size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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

/**
 * Writes `entries` merged with what the file holds now (another warden may have added some),
 * dropping expired ones. Atomic: readers see the old file or the new one, never a torn one.
 * Returns the entries written.
 */
export function writeRegistryFile(path: string, entries: readonly RegistryEntry[], now: number): RegistryEntry[] {
  const byId = new Map<string, RegistryEntry>();
  // A file we cannot read now is not merged (its entries were loaded at start or by the poll); it is replaced.
  let onDisk: RegistryEntry[] = [];
  try {
    onDisk = readRegistryFile(path, now);
  } catch {
    onDisk = [];
  }
  for (const e of [...onDisk, ...entries]) if (e.expiresAt > now) byId.set(e.id, e);
  const merged = [...byId.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openTempExclusive(tmp, 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ v: REGISTRY_FILE_VERSION, entries: merged }, null, 2)}\n`);
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
 * One registry's view of the file: loads it, notices when another process rewrote it (by size
 * and mtime, polled: a watch on a file that does not exist yet would watch its folder, which
 * holds the audit log and would wake warden on every audit write), and saves.
 */
export class RegistryFile {
  private stamp: FileStamp | undefined;

  constructor(readonly path: string) {}

  /** The live entries on disk. Throws on a bad file (start-up refuses it). */
  load(now: number): RegistryEntry[] {
    const entries = readRegistryFile(this.path, now);
    this.stamp = stampOf(this.path);
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
    if (this.stamp && stamp.mtimeMs === this.stamp.mtimeMs && stamp.size === this.stamp.size) return undefined;
    this.stamp = stamp;
    return this.load(now);
  }

  /** Writes `entries` merged with the file; returns everything now in it (others' entries too). */
  save(entries: readonly RegistryEntry[], now: number): RegistryEntry[] {
    const merged = writeRegistryFile(this.path, entries, now);
    this.stamp = stampOf(this.path);
    return merged;
  }
}
