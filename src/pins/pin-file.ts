import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { assertTrustedFile } from '../core/trusted-file.js';
import { ConfigError } from '../core/errors.js';
import type { PinnedPart } from './tool-digest.js';

const DefinitionSchema = z.looseObject({
  title: z.unknown().optional(),
  description: z.unknown().optional(),
  inputSchema: z.unknown().optional(),
  outputSchema: z.unknown().optional(),
  annotations: z.unknown().optional(),
});

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

const ToolPinSchema = z.object({ pinned: PinnedSchema.optional(), pending: PendingSchema.optional() });

const PinFileHeadSchema = z.object({ version: z.literal(1), upstreams: z.record(z.string(), z.unknown()) });
const UpstreamSchema = z.object({ tools: z.record(z.string(), z.unknown()) });

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
export interface ToolPin {
  pinned?: PinnedEntry;
  pending?: PendingEntry;
}

/** In memory: Maps, so tool or upstream names like `__proto__` stay plain keys. */
export type PinTable = Map<string, Map<string, ToolPin>>;

/** Reads a pin file. A missing file is an empty table; an invalid one is a ConfigError naming it. */
export function readPinFile(file: string): PinTable {
  // Whoever can rewrite the pin file decides which tool definitions count as accepted.
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
    throw new ConfigError('not a valid pin file (expected {"version":1,"upstreams":{...}})', { file }, { cause });
  }
}

// Walks the raw JSON with Object.entries (JSON.parse keeps `__proto__` as a plain own key) and
// validates each value; names never pass through object assignment.
function toTable(raw: unknown): PinTable {
  PinFileHeadSchema.parse(raw);
  const table: PinTable = new Map();
  for (const [upstream, value] of Object.entries((raw as { upstreams: Record<string, unknown> }).upstreams)) {
    UpstreamSchema.parse(value);
    const tools = (value as { tools: unknown }).tools;
    if (!isPlainObject(tools)) throw new Error(`upstream ${upstream}: tools must be an object`);
    const map = new Map<string, ToolPin>();
    for (const [tool, pin] of Object.entries(tools)) map.set(tool, ToolPinSchema.parse(pin) as ToolPin);
    table.set(upstream, map);
  }
  return table;
}

/** Serialises in a stable order so diffs of the pin file under version control stay small. */
export function serialisePinTable(table: PinTable): string {
  const upstreams = Object.fromEntries(
    [...table.keys()].sort().map((u) => {
      const tools = table.get(u) as Map<string, ToolPin>;
      return [u, { tools: Object.fromEntries([...tools.keys()].sort().map((t) => [t, tools.get(t)])) }];
    }),
  );
  return `${JSON.stringify({ version: 1, upstreams }, null, 2)}\n`;
}

/** Writes atomically: a temporary file in the same directory, then rename(2). */
export function writePinFile(file: string, table: PinTable): void {
  mkdirSync(dirname(file), { recursive: true });
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
export function withOthersHeld(mine: PinTable, theirs: PinTable, dropped: (upstream: string, tool: string, digest: string) => boolean): PinTable {
  const out: PinTable = new Map();
  for (const [upstream, tools] of mine) {
    const copy = new Map(tools);
    for (const [tool, pin] of theirs.get(upstream) ?? new Map<string, ToolPin>()) {
      const own = copy.get(tool);
      if (!pin.pending || own?.pending || own?.pinned?.digest !== pin.pinned?.digest) continue;
      if (dropped(upstream, tool, pin.pending.digest)) continue;
      copy.set(tool, { ...own, pending: pin.pending });
    }
    out.set(upstream, copy);
  }
  for (const [upstream, tools] of theirs) if (!out.has(upstream)) out.set(upstream, tools);
  return out;
}

export interface PinSelector {
  readonly upstream?: string;
  /** A tool name, or undefined with `all` for every pending tool. */
  readonly tool?: string;
  readonly all?: boolean;
  /**
   * Only a held definition with exactly this digest (`sha256:` optional, all 64 hex digits): what a
   * person read in `diff`, so a change that arrives in between stays held. Not a prefix: the
   * upstream writes both definitions, so a short prefix is a birthday collision away (12 hex
   * digits: about 2^24 tries).
   */
  readonly digest?: string;
  /** A matching held definition this returns false for stays held (the CLI: flagged, no --digest). */
  readonly eligible?: (upstream: string, tool: string, pending: PendingEntry) => boolean;
}

/** True when `wanted` is the whole digest (`sha256:` optional). */
function digestMatches(digest: string, wanted: string): boolean {
  const hex = (d: string): string => d.toLowerCase().replace(/^sha256:/, '');
  return hex(wanted).length === 64 && hex(digest) === hex(wanted);
}

export interface AcceptedPin {
  readonly upstream: string;
  readonly tool: string;
  readonly digest: string;
  readonly previousDigest: string | undefined;
}

/** Moves matching pending definitions to pinned (in place). Returns what was accepted. */
export function acceptPending(table: PinTable, selector: PinSelector, by: string, now: Date): AcceptedPin[] {
  const accepted: AcceptedPin[] = [];
  for (const [upstream, tools] of table) {
    if (selector.upstream !== undefined && selector.upstream !== upstream) continue;
    for (const [tool, pin] of tools) {
      if (!pin.pending) continue;
      if (!selector.all && selector.tool !== tool) continue;
      if (selector.digest !== undefined && !digestMatches(pin.pending.digest, selector.digest)) continue;
      if (selector.eligible !== undefined && !selector.eligible(upstream, tool, pin.pending)) continue;
      accepted.push({ upstream, tool, digest: pin.pending.digest, previousDigest: pin.pinned?.digest });
      pin.pinned = { digest: pin.pending.digest, definition: pin.pending.definition, pinnedAt: now.toISOString(), acceptedBy: by };
      delete pin.pending;
    }
  }
  return accepted;
}
