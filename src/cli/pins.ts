import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { WardenError } from '../core/errors.js';
import { diffDefinitions, oneLine } from '../pins/pin-diff.js';
import { PIN_KINDS, type PinKind } from '../pins/definition-digest.js';
import { acceptPending, eachPin, pinsOf, readPinFile, writePinFile, type PendingEntry, type PinTable } from '../pins/pin-file.js';
import { scanDefinition } from '../pins/scan-description.js';
import { renderTable } from '../sessions/render-table.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { didYouMean, withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden pins <list|diff|accept> [--upstream U] [--tool T | --prompt P | --template N | --all] [--digest D] [--file F] [--json]

Pinned definitions: tools, prompts and resource templates (operates on the pin file; a running
warden picks up accepts by watching it). Held definitions are left out of the tools/list,
prompts/list or resources/templates/list agents see until accepted; prompts/get of a held prompt
is refused.
  list    every pinned definition and its state: pinned, changed (held), new (held)
  diff    the held changes as text diffs of description and schema fields
  accept  trust the held definition of --tool T, --prompt P or --template N (or --all held
          definitions of every kind), optionally of --upstream U

Options:
  --upstream U  only this upstream
  --tool T      only this tool
  --prompt P    only this prompt
  --template N  only this resource template (by its name)
  --all         with accept: every held definition (of --upstream when given)
  --digest D    with accept: only if the held definition is still the one diff showed with
                this digest (the whole sha256:… diff prints); a newer change stays held.
                Required for definitions flagged poisoned?: without it they stay held
                (also with --all, which accepts the others) and accept exits 1
  --file F      pin file (default: $WARDEN_PINS_FILE or .warden/pins.json)
  --json        print data as JSON
  -h, --help    show this help

Exit codes: 0 ok, 1 accept found nothing held or left a flagged one held (no --digest), 2 usage,
3 pin file missing or invalid, 4 pin file unreadable or not writable.
`;

/** How a kind is named in output and which option selects it. */
const KIND_NAMES: Readonly<Record<PinKind, { readonly label: string; readonly option: string }>> = {
  tool: { label: 'tool', option: '--tool' },
  prompt: { label: 'prompt', option: '--prompt' },
  resourceTemplate: { label: 'resource template', option: '--template' },
};

/** `everything/add` for a tool (as always), `prompt everything/greet` for the other kinds. */
function label(kind: PinKind, upstream: string, name: string): string {
  const path = oneLine(`${upstream}/${name}`);
  return kind === 'tool' ? path : `${KIND_NAMES[kind].label} ${path}`;
}

interface Row {
  readonly upstream: string;
  readonly kind: PinKind;
  readonly name: string;
  /** `name` of a tool, as in the output before prompts and templates were pinned. */
  readonly tool?: string;
  readonly state: 'pinned' | 'changed' | 'new';
  readonly digest: string | undefined;
  readonly pendingDigest: string | undefined;
  readonly pinnedAt: string | undefined;
  readonly acceptedBy: string | undefined;
  readonly flags: string[];
}

/** What --tool / --prompt / --template / --all select. */
interface Selection {
  readonly upstream?: string;
  readonly kind?: PinKind;
  readonly name?: string;
}

function selection(v: Flags): Selection {
  if (v.tool !== undefined) return { upstream: v.upstream, kind: 'tool', name: v.tool };
  if (v.prompt !== undefined) return { upstream: v.upstream, kind: 'prompt', name: v.prompt };
  if (v.template !== undefined) return { upstream: v.upstream, kind: 'resourceTemplate', name: v.template };
  return { upstream: v.upstream };
}

const byText = (a: string, b: string): number => a.localeCompare(b);

function rows(table: PinTable, sel: Selection): Row[] {
  const out: Row[] = [];
  const all = [...eachPin(table)].sort(([u1, k1, n1], [u2, k2, n2]) => byText(u1, u2) || PIN_KINDS.indexOf(k1) - PIN_KINDS.indexOf(k2) || byText(n1, n2));
  for (const [u, kind, name, pin] of all) {
    if (sel.upstream !== undefined && u !== sel.upstream) continue;
    if (sel.kind !== undefined && (kind !== sel.kind || name !== sel.name)) continue;
    const seen = pin.pending?.definition ?? pin.pinned?.definition ?? {};
    out.push({
      upstream: u,
      kind,
      name,
      ...(kind === 'tool' ? { tool: name } : {}),
      state: pin.pending ? pin.pending.kind : 'pinned',
      digest: pin.pinned?.digest,
      pendingDigest: pin.pending?.digest,
      pinnedAt: pin.pinned?.pinnedAt,
      acceptedBy: pin.pinned?.acceptedBy,
      flags: scanDefinition(seen, kind).map((r) => r.detail),
    });
  }
  return out;
}

const short = (d: string | undefined): string => (d ? d.slice(0, 19) : '-');

function list(table: PinTable, v: Flags, io: CliIo): number {
  const data = rows(table, selection(v));
  if (v.json) io.stdout.write(`${JSON.stringify({ pins: data }, null, 2)}\n`);
  else if (data.length === 0) io.stdout.write('no pinned definitions\n');
  else {
    const cells = data.map((r) => [r.upstream, KIND_NAMES[r.kind].label, r.name, r.state, short(r.digest), r.pinnedAt ?? '-', r.flags.length ? `poisoned? ${r.flags.join('; ')}` : '']);
    io.stdout.write(renderTable(['UPSTREAM', 'KIND', 'NAME', 'STATE', 'DIGEST', 'PINNED AT', 'FLAGS'], cells));
  }
  return EXIT.ok;
}

function diff(table: PinTable, v: Flags, io: CliIo): number {
  const held = rows(table, selection(v)).filter((r) => r.state !== 'pinned');
  const diffs = held.map((r) => {
    const pin = pinsOf(table, r.upstream, r.kind)?.get(r.name);
    return { ...r, diff: diffDefinitions(`${r.upstream}/${r.name}`, pin?.pinned?.definition, pin?.pending?.definition ?? {}) };
  });
  if (v.json) io.stdout.write(`${JSON.stringify({ changes: diffs }, null, 2)}\n`);
  else if (diffs.length === 0) io.stdout.write('no held changes\n');
  else for (const d of diffs) io.stdout.write(`${d.state}: ${label(d.kind, d.upstream, d.name)} ${d.pendingDigest ?? '-'}${d.flags.length ? ` (poisoned? ${d.flags.join('; ')})` : ''}\n${d.diff}\n\n`);
  return EXIT.ok;
}

function accept(file: string, table: PinTable, v: Flags, io: CliIo): number {
  const sel = selection(v);
  if (!v.all && sel.kind === undefined) {
    io.stderr.write(`warden pins accept: give --tool T, --prompt P, --template N or --all\n\n${HELP}`);
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
  const eligible = v.digest !== undefined ? undefined : (upstream: string, kind: PinKind, name: string, pending: PendingEntry): boolean => {
    const flags = scanDefinition(pending.definition, kind).map((r) => r.detail);
    if (flags.length > 0) refused.push({ upstream, kind, name, ...(kind === 'tool' ? { tool: name } : {}), digest: pending.digest, flags });
    return flags.length === 0;
  };
  const accepted = acceptPending(table, { ...sel, all: v.all, digest: v.digest, eligible }, by, new Date());
  if (accepted.length > 0) writePinFile(file, table);
  if (v.json) {
    const shown = accepted.map((a) => ({ ...a, ...(a.kind === 'tool' ? { tool: a.name } : {}) }));
    io.stdout.write(`${JSON.stringify({ accepted: shown, refused, by }, null, 2)}\n`);
  } else {
    for (const a of accepted) io.stdout.write(`accepted ${label(a.kind, a.upstream, a.name)} ${short(a.previousDigest)} -> ${short(a.digest)}\n`);
    for (const r of refused) io.stderr.write(refusedMessage(r));
    if (accepted.length === 0 && refused.length === 0) io.stderr.write('warden pins accept: nothing held matches\n');
  }
  return accepted.length > 0 && refused.length === 0 ? EXIT.ok : EXIT.failure;
}

interface Refused {
  readonly upstream: string;
  readonly kind: PinKind;
  readonly name: string;
  readonly tool?: string;
  readonly digest: string;
  readonly flags: readonly string[];
}

function refusedMessage(r: Refused): string {
  return (
    `warden pins accept: not accepted: ${label(r.kind, r.upstream, r.name)} is flagged (poisoned? ${r.flags.join('; ')}); ` +
    'a flagged definition is accepted only with the digest you reviewed, so one that changed after your diff is never accepted unseen. ' +
    `Check it with \`warden pins diff --upstream ${oneLine(r.upstream)} ${KIND_NAMES[r.kind].option} ${oneLine(r.name)}\`, then pass --digest ${r.digest}\n`
  );
}

interface Flags {
  upstream?: string;
  tool?: string;
  prompt?: string;
  template?: string;
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
        prompt: { type: 'string' },
        template: { type: 'string' },
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
    io.stderr.write(`warden pins: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
    return EXIT.usage;
  }
  const v = parsed.values as Flags;
  const [sub, ...extra] = parsed.positionals;
  if (v.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const selectors = [v.tool, v.prompt, v.template, v.all ? true : undefined].filter((x) => x !== undefined).length;
  if (!sub || extra.length > 0 || !['list', 'diff', 'accept'].includes(sub) || selectors > 1) {
    const unknown = sub !== undefined && !['list', 'diff', 'accept'].includes(sub) ? `unknown subcommand '${terminalMessage(sub)}'${didYouMean(sub, ['list', 'diff', 'accept'])}; ` : '';
    io.stderr.write(`warden pins: ${unknown}expected one of list, diff, accept (and at most one of --tool, --prompt, --template, --all)\n\n${HELP}`);
    return EXIT.usage;
  }
  if (sub !== 'accept' && (v.digest !== undefined || v.all === true)) {
    io.stderr.write(`warden pins: --digest and --all only go with accept\n\n${HELP}`);
    return EXIT.usage;
  }
  const given = v.file ?? io.env.WARDEN_PINS_FILE ?? '.warden/pins.json';
  const file = isAbsolute(given) ? given : join(io.cwd, given);
  if (!existsSync(file)) {
    // An empty listing for a path with no file would read as "nothing pinned" when the path is wrong.
    io.stderr.write(`warden pins: ${file} does not exist (warden writes its pins.file when it first lists an upstream's tools, prompts or resource templates); give --file or set WARDEN_PINS_FILE\n`);
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

export const pinsCommand: CliCommand = { name: 'pins', summary: 'List, diff and accept pinned tool, prompt and resource template definitions', run };
