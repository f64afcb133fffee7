import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { assertTrustedFile } from '../core/trusted-file.js';
import { ConfigError } from '../core/errors.js';
import { KIND_SPECS, PIN_KINDS, type PinKind, type PinnedPart } from './definition-digest.js';
import { makeDirectories } from '../core/make-directories.js';

/** Any kind's pinned part (loose: a field pinned by a later version must survive a rewrite). */
const DefinitionSchema = z.looseObject({});

const PinnedSchema = z.object({
  digest: z.string().startsWith('sha256:'),
  definition: DefinitionSchema,
  pinnedAt: z.string(),
  acceptedBy: z.string(),
});

const PendingSchema = z.object({
  kind: z.enum(['changed', 'new']),
  digest: z.string().startsWith('sha256:'),
  definition: DefinitionSchema,
  seenAt: z.string(),
});

const DefinitionPinSchema = z.object({ pinned: PinnedSchema.optional(), pending: PendingSchema.optional() });

/**
 * Version 1 pinned tools only (`{"tools": {...}}` per upstream) and is still read. Version 2 adds
 * `prompts` and `resourceTemplates`; a section present means that kind was listed (trust on first
 * use is spent for it), so a version 1 file's upstreams pin their prompts and templates on first
 * sight. Written as version 2: an older warden refuses it at start-up rather than dropping pins.
 */
export const PIN_FILE_VERSION = 2;
const PinFileHeadSchema = z.object({ version: z.union([z.literal(1), z.literal(2)]), upstreams: z.record(z.string(), z.unknown()) });
const UpstreamV1Schema = z.object({ tools: z.record(z.string(), z.unknown()) });
// Strict: a section of a kind this warden does not know (a newer version's) is a load error, not dropped.
const UpstreamV2Schema = z.strictObject({
  tools: z.record(z.string(), z.unknown()).optional(),
  prompts: z.record(z.string(), z.unknown()).optional(),
  resourceTemplates: z.record(z.string(), z.unknown()).optional(),
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface PinnedEntry {
  readonly digest: string;
  /** The full pinned part, so a later change can be shown as a diff. */
  readonly definition: PinnedPart;
  /** ISO time. */
  readonly pinnedAt: string;
  /** `first-use`, `auto (pins.onNew: allow)`, or who accepted it (`cli:<user>`). */
  readonly acceptedBy: string;
}
export interface PendingEntry {
  readonly kind: 'changed' | 'new';
  readonly digest: string;
  readonly definition: PinnedPart;
  readonly seenAt: string;
}
/** The pin state of one definition (a tool, a prompt or a resource template). */
export interface DefinitionPin {
  pinned?: PinnedEntry;
  pending?: PendingEntry;
}

/** One upstream's pins: per kind that was listed, name to pin. */
export type UpstreamPins = Map<PinKind, Map<string, DefinitionPin>>;

/** In memory: Maps, so names like `__proto__` stay plain keys. */
export type PinTable = Map<string, UpstreamPins>;

/** The pins of one kind of one upstream (undefined: that kind was never listed there). */
export function pinsOf(table: PinTable, upstream: string, kind: PinKind): Map<string, DefinitionPin> | undefined {
  return table.get(upstream)?.get(kind);
}

/** Every pin in the table, upstream by upstream. */
export function* eachPin(table: PinTable): Generator<[upstream: string, kind: PinKind, name: string, pin: DefinitionPin]> {
  for (const [upstream, kinds] of table) {
    for (const [kind, pins] of kinds) for (const [name, pin] of pins) yield [upstream, kind, name, pin];
  }
}

/** Reads a pin file. A missing file is an empty table; an invalid one is a ConfigError naming it. */
export function readPinFile(file: string): PinTable {
  // Whoever can rewrite the pin file decides which definitions count as accepted.
  assertTrustedFile(file, 'pin file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(`cannot read pin file: ${(err as Error).message}`, { file });
  }
  try {
    return toTable(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError('not a valid pin file (expected {"version":2,"upstreams":{...}})', { file }, { cause });
  }
}

// Walks the raw JSON with Object.entries (JSON.parse keeps `__proto__` as a plain own key) and
// validates each value; names never pass through object assignment.
function toTable(raw: unknown): PinTable {
  const head = PinFileHeadSchema.parse(raw);
  const table: PinTable = new Map();
  for (const [upstream, value] of Object.entries((raw as { upstreams: Record<string, unknown> }).upstreams)) {
    (head.version === 1 ? UpstreamV1Schema : UpstreamV2Schema).parse(value);
    const kinds: UpstreamPins = new Map();
    for (const kind of PIN_KINDS) {
      const section = KIND_SPECS[kind].section;
      if (head.version === 1 && kind !== 'tool') continue; // version 1 pinned tools only
      if (!Object.hasOwn(value as object, section)) continue;
      const entries = (value as Record<string, unknown>)[section];
      if (!isPlainObject(entries)) throw new Error(`upstream ${upstream}: ${section} must be an object`);
      const map = new Map<string, DefinitionPin>();
      for (const [name, pin] of Object.entries(entries)) map.set(name, DefinitionPinSchema.parse(pin) as DefinitionPin);
      kinds.set(kind, map);
    }
    table.set(upstream, kinds);
  }
  return table;
}

/** Serialises in a stable order so diffs of the pin file under version control stay small. */
export function serialisePinTable(table: PinTable): string {
  const sorted = <T>(map: Map<string, T>): Record<string, T> => Object.fromEntries([...map.keys()].sort().map((k) => [k, map.get(k) as T]));
  const upstreams = Object.fromEntries(
    [...table.keys()].sort().map((u) => {
      const kinds = table.get(u) as UpstreamPins;
      const sections = PIN_KINDS.filter((k) => kinds.has(k)).map((k) => [KIND_SPECS[k].section, sorted(kinds.get(k)!)]);
      return [u, Object.fromEntries(sections)];
    }),
  );
  return `${JSON.stringify({ version: PIN_FILE_VERSION, upstreams }, null, 2)}\n`;
}

/** Writes atomically: a temporary file in the same directory, then rename(2). */
export function writePinFile(file: string, table: PinTable): void {
  makeDirectories(dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, serialisePinTable(table), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * `mine` plus the held changes that another warden sharing the file recorded there and this one
 * does not hold itself (same pinned definition, no held change of its own), so that writing the
 * file never erases them: an operator could otherwise neither see nor accept a change that warden
 * keeps holding. `dropped` names held changes this warden cleared itself (its upstream went back).
 */
export function withOthersHeld(mine: PinTable, theirs: PinTable, dropped: (upstream: string, kind: PinKind, name: string, digest: string) => boolean): PinTable {
  const out: PinTable = new Map();
  for (const [upstream, kinds] of mine) {
    const copies: UpstreamPins = new Map();
    for (const [kind, pins] of kinds) {
      const copy = new Map(pins);
      for (const [name, pin] of pinsOf(theirs, upstream, kind) ?? new Map<string, DefinitionPin>()) {
        const own = copy.get(name);
        if (!pin.pending || own?.pending || own?.pinned?.digest !== pin.pinned?.digest) continue;
        if (dropped(upstream, kind, name, pin.pending.digest)) continue;
        copy.set(name, { ...own, pending: pin.pending });
      }
      copies.set(kind, copy);
    }
    // A kind only the other warden listed so far is kept whole, as an upstream only it knows is.
    for (const [kind, pins] of theirs.get(upstream) ?? new Map()) if (!copies.has(kind)) copies.set(kind, pins);
    out.set(upstream, copies);
  }
  for (const [upstream, kinds] of theirs) if (!out.has(upstream)) out.set(upstream, kinds);
  return out;
}

export interface PinSelector {
  readonly upstream?: string;
  /** Only this kind (with `name`, the kind of that name; with `all`, undefined means every kind). */
  readonly kind?: PinKind;
  /** A name, or undefined with `all` for every pending definition. */
  readonly name?: string;
  readonly all?: boolean;
  /**
   * Only a held definition with exactly this digest (`sha256:` optional, all 64 hex digits): what a
   * person read in `diff`, so a change that arrives in between stays held. Not a prefix: the
   * upstream writes both definitions, so a short prefix is a birthday collision away (12 hex
   * digits: about 2^24 tries).
   */
  readonly digest?: string;
  /** A matching held definition this returns false for stays held (the CLI: flagged, no --digest). */
  readonly eligible?: (upstream: string, kind: PinKind, name: string, pending: PendingEntry) => boolean;
}

/** True when `wanted` is the whole digest (`sha256:` optional). */
function digestMatches(digest: string, wanted: string): boolean {
  const hex = (d: string): string => d.toLowerCase().replace(/^sha256:/, '');
  return hex(wanted).length === 64 && hex(digest) === hex(wanted);
}

export interface AcceptedPin {
  readonly upstream: string;
  readonly kind: PinKind;
  readonly name: string;
  readonly digest: string;
  readonly previousDigest: string | undefined;
}

/** Moves matching pending definitions to pinned (in place). Returns what was accepted. */
export function acceptPending(table: PinTable, selector: PinSelector, by: string, now: Date): AcceptedPin[] {
  const accepted: AcceptedPin[] = [];
  for (const [upstream, kind, name, pin] of eachPin(table)) {
    if (!pin.pending) continue;
    if (selector.upstream !== undefined && selector.upstream !== upstream) continue;
    if (selector.kind !== undefined && selector.kind !== kind) continue;
    if (!selector.all && selector.name !== name) continue;
    if (selector.digest !== undefined && !digestMatches(pin.pending.digest, selector.digest)) continue;
    if (selector.eligible !== undefined && !selector.eligible(upstream, kind, name, pin.pending)) continue;
    accepted.push({ upstream, kind, name, digest: pin.pending.digest, previousDigest: pin.pinned?.digest });
    pin.pinned = { digest: pin.pending.digest, definition: pin.pending.definition, pinnedAt: now.toISOString(), acceptedBy: by };
    delete pin.pending;
  }
  return accepted;
}
