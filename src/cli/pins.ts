import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { WardenError } from '../core/errors.js';
import { diffDefinitions, oneLine } from '../pins/pin-diff.js';
import { acceptPending, readPinFile, writePinFile, type PendingEntry, type PinTable, type ToolPin } from '../pins/pin-file.js';
import { scanToolDefinition } from '../pins/scan-description.js';
import { renderTable } from '../sessions/render-table.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';

const HELP = `Usage: warden pins <list|diff|accept> [--upstream U] [--tool T | --all] [--digest D] [--file F] [--json]

Pinned tool definitions (operates on the pin file; a running warden picks up accepts by watching it).
Held tools are left out of the tools/list agents see until accepted.
  list    every pinned tool and its state: pinned, changed (held), new (held)
  diff    the held changes as text diffs of description and schema fields
  accept  trust the held definition of --tool T (or --all held tools), optionally of --upstream U

Options:
  --upstream U  only this upstream
  --tool T      only this tool
  --all         with accept: every held tool (of --upstream when given)
  --digest D    with accept: only if the held definition is still the one diff showed with
                this digest (the whole sha256:… diff prints); a newer change stays held.
                Required for definitions flagged poisoned?: without it they stay held
                (also with --all, which accepts the others) and accept exits 1
  --file F      pin file (default: $WARDEN_PINS_FILE or .warden/pins.json)
  --json        print data as JSON
  -h, --help    show this help

Exit codes: 0 ok, 1 accept found nothing held or left a flagged one held (no --digest), 2 usage, 3 pin file missing or invalid.
`;

interface Row {
  readonly upstream: string;
  readonly tool: string;
  readonly state: 'pinned' | 'changed' | 'new';
  readonly digest: string | undefined;
  readonly pendingDigest: string | undefined;
  readonly pinnedAt: string | undefined;
  readonly acceptedBy: string | undefined;
  readonly flags: string[];
}

function rows(table: PinTable, upstream?: string, tool?: string): Row[] {
  const out: Row[] = [];
  for (const [u, tools] of [...table].sort(([a], [b]) => a.localeCompare(b))) {
    if (upstream !== undefined && u !== upstream) continue;
    for (const [t, pin] of [...tools].sort(([a], [b]) => a.localeCompare(b))) {
      if (tool !== undefined && t !== tool) continue;
      const seen = pin.pending?.definition ?? pin.pinned?.definition ?? {};
      out.push({
        upstream: u,
        tool: t,
        state: pin.pending ? pin.pending.kind : 'pinned',
        digest: pin.pinned?.digest,
        pendingDigest: pin.pending?.digest,
        pinnedAt: pin.pinned?.pinnedAt,
        acceptedBy: pin.pinned?.acceptedBy,
        flags: scanToolDefinition(seen).map((r) => r.detail),
      });
    }
  }
  return out;
}

const short = (d: string | undefined): string => (d ? d.slice(0, 19) : '-');

function list(table: PinTable, v: Flags, io: CliIo): number {
  const data = rows(table, v.upstream, v.tool);
  if (v.json) io.stdout.write(`${JSON.stringify({ pins: data }, null, 2)}\n`);
  else if (data.length === 0) io.stdout.write('no pinned tools\n');
  else {
    const cells = data.map((r) => [r.upstream, r.tool, r.state, short(r.digest), r.pinnedAt ?? '-', r.flags.length ? `poisoned? ${r.flags.join('; ')}` : '']);
    io.stdout.write(renderTable(['UPSTREAM', 'TOOL', 'STATE', 'DIGEST', 'PINNED AT', 'FLAGS'], cells));
  }
  return EXIT.ok;
}

function diff(table: PinTable, v: Flags, io: CliIo): number {
  const held = rows(table, v.upstream, v.tool).filter((r) => r.state !== 'pinned');
  const diffs = held.map((r) => {
    const pin = table.get(r.upstream)?.get(r.tool) as ToolPin;
    return { ...r, diff: diffDefinitions(`${r.upstream}/${r.tool}`, pin.pinned?.definition, pin.pending?.definition ?? {}) };
  });
  if (v.json) io.stdout.write(`${JSON.stringify({ changes: diffs }, null, 2)}\n`);
  else if (diffs.length === 0) io.stdout.write('no held changes\n');
  else for (const d of diffs) io.stdout.write(`${d.state}: ${oneLine(`${d.upstream}/${d.tool}`)} ${d.pendingDigest ?? '-'}${d.flags.length ? ` (poisoned? ${d.flags.join('; ')})` : ''}\n${d.diff}\n\n`);
  return EXIT.ok;
}

function accept(file: string, table: PinTable, v: Flags, io: CliIo): number {
  if (!v.all && v.tool === undefined) {
    io.stderr.write(`warden pins accept: give --tool T or --all\n\n${HELP}`);
    return EXIT.usage;
  }
  const by = `cli:${userInfo().username}`;
  // The whole digest, never a prefix: the upstream writes both the definition a person reads and
  // the one it swaps in, so it can make their short prefixes collide.
  if (v.digest !== undefined && !/^(sha256:)?[0-9a-f]{64}$/i.test(v.digest)) {
    io.stderr.write(`warden pins accept: --digest expects the whole digest diff printed (sha256: and 64 hex digits)\n\n${HELP}`);
    return EXIT.usage;
  }
  // Without --digest, accept pins whatever the file holds when it runs, which may not be what the
  // operator read in `diff` (the upstream can change in between). For a definition the scan flags
  // that gap is the attack, so it is accepted only by the digest a person read (--all included).
  const refused: Refused[] = [];
  const eligible = v.digest !== undefined ? undefined : (upstream: string, tool: string, pending: PendingEntry): boolean => {
    const flags = scanToolDefinition(pending.definition).map((r) => r.detail);
    if (flags.length > 0) refused.push({ upstream, tool, digest: pending.digest, flags });
    return flags.length === 0;
  };
  const accepted = acceptPending(table, { upstream: v.upstream, tool: v.tool, all: v.all, digest: v.digest, eligible }, by, new Date());
  if (accepted.length > 0) writePinFile(file, table);
  if (v.json) io.stdout.write(`${JSON.stringify({ accepted, refused, by }, null, 2)}\n`);
  else {
    for (const a of accepted) io.stdout.write(`accepted ${oneLine(`${a.upstream}/${a.tool}`)} ${short(a.previousDigest)} -> ${short(a.digest)}\n`);
    for (const r of refused) io.stderr.write(refusedMessage(r));
    if (accepted.length === 0 && refused.length === 0) io.stderr.write('warden pins accept: nothing held matches\n');
  }
  return accepted.length > 0 && refused.length === 0 ? EXIT.ok : EXIT.failure;
}

interface Refused {
  readonly upstream: string;
  readonly tool: string;
  readonly digest: string;
  readonly flags: readonly string[];
}

function refusedMessage(r: Refused): string {
  const name = oneLine(`${r.upstream}/${r.tool}`);
  return (
    `warden pins accept: not accepted: ${name} is flagged (poisoned? ${r.flags.join('; ')}); ` +
    'a flagged definition is accepted only with the digest you reviewed, so one that changed after your diff is never accepted unseen. ' +
    `Check it with \`warden pins diff --upstream ${oneLine(r.upstream)} --tool ${oneLine(r.tool)}\`, then pass --digest ${r.digest}\n`
  );
}

interface Flags {
  upstream?: string;
  tool?: string;
  all?: boolean;
  digest?: string;
  file?: string;
  json?: boolean;
  help?: boolean;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        upstream: { type: 'string' },
        tool: { type: 'string' },
        all: { type: 'boolean' },
        digest: { type: 'string' },
        file: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    io.stderr.write(`warden pins: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  const v = parsed.values as Flags;
  const [sub, ...extra] = parsed.positionals;
  if (v.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  if (!sub || extra.length > 0 || !['list', 'diff', 'accept'].includes(sub) || (v.all && v.tool !== undefined)) {
    io.stderr.write(`warden pins: expected one of list, diff, accept (and not both --tool and --all)\n\n${HELP}`);
    return EXIT.usage;
  }
  const given = v.file ?? io.env.WARDEN_PINS_FILE ?? '.warden/pins.json';
  const file = isAbsolute(given) ? given : join(io.cwd, given);
  if (!existsSync(file)) {
    // An empty listing for a path with no file would read as "nothing pinned" when the path is wrong.
    io.stderr.write(`warden pins: ${file} does not exist (warden writes its pins.file when it first lists an upstream's tools); give --file or set WARDEN_PINS_FILE\n`);
    return EXIT.config;
  }
  let table: PinTable;
  try {
    table = readPinFile(file);
  } catch (err) {
    io.stderr.write(`warden pins: ${(err as Error).message}\n`);
    return err instanceof WardenError && err.code === 'config_invalid' ? EXIT.config : EXIT.unavailable;
  }
  if (sub === 'list') return list(table, v, io);
  if (sub === 'diff') return diff(table, v, io);
  return accept(file, table, v, io);
}

export const pinsCommand: CliCommand = { name: 'pins', summary: 'List, diff and accept pinned tool definitions', run };
