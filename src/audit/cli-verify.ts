import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { defaultCheckpointPath, listRotated, rotatedBaseOf } from './log-files.js';
import { defaultAuditFile, expandSet } from './read-records.js';
import { painter } from './cli-format.js';
import { readProgress } from './read-progress.js';
import { verifyAuditFiles, verifyAuditSet, type VerifyProblem, type VerifyReport } from './verify-audit.js';
import type { ChainAnchor } from './verify-types.js';

export const VERIFY_HELP = `Usage: warden audit verify [FILE...] [--checkpoint F] [--public-key F] [--anchor SEQ:HASH] [--strict] [--json]

Checks the hash chain of an audit log (a rotated set in any order) and its checkpoint.
One FILE expands to its rotated set (FILE.N.jsonl siblings). Default FILE: --file,
$WARDEN_AUDIT_FILE or ./warden-audit.jsonl. The checkpoint defaults to
<base>.checkpoint.json next to the log when it exists (not when rotated FILEs are named
without the active file, one or several, or one by --file: the live log's checkpoint lies
beyond them).

  --checkpoint F    checkpoint file (detects a truncated tail)
  --public-key F    Ed25519 public key (PEM): the checkpoint must be signed by it
  --anchor SEQ:HASH verify a set whose older files were removed (retention): the first
                    record must be SEQ+1 and link to HASH, the lastSeq:lastHash that
                    verifying the removed files printed (--json) before they went
  --strict          warnings fail too: a torn last line, records after the checkpoint
                    (uncovered_records), no checkpoint (no_checkpoint), a signed checkpoint
                    checked without --public-key (unchecked_signature), a restart on records
                    no trustworthy checkpoint vouched for (unvouched_restart). For a closed log.
  --file F          default log file
  --json            machine-readable report (with --strict, "ok" is false on a warning)
Records after the checkpoint's seq are covered by the hash chain only: verify warns about them.
Exit codes: 0 chain intact (warnings allowed unless --strict), 1 problem found (or a warning with
--strict), 2 usage, 3 unreadable.
`;

function describe(p: VerifyProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  const place = `${where}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}`;
  return `${p.code}  ${place ? `${place}: ` : ''}${p.message}`;
}

/**
 * The files to verify; `active` when they are the set of one name (listed again when verifying);
 * `named` when they were named without their active file (no checkpoint is guessed for them).
 */
function resolveFiles(positionals: string[], file: string | undefined, io: CliIo): { files: string[]; active?: string; named?: boolean } {
  if (positionals.length === 0) {
    const active = defaultAuditFile(file, io.env, io.cwd);
    // `--file F` (or $WARDEN_AUDIT_FILE) names one file as `verify F` does: a rotated file there
    // stands alone too, not checked against the live log's checkpoint.
    if (standsAlone(active) && existsSync(active)) return { files: [active], named: true };
    return { files: expandSet(active), active };
  }
  const files = positionals.map((f) => resolve(io.cwd, f));
  if (files.length > 1) return { files, named: true };
  const only = files[0] as string;
  if (standsAlone(only)) return { files, named: true };
  const set = expandSet(files[0] as string);
  // A missing file stays in the list so the report names it (unreadable_file).
  return set.length > 0 ? { files: set, active: files[0] as string } : { files };
}

/**
 * A rotated file named alone stands alone (about to be archived): verified as a chain, as when
 * several are named without their active file (guessCheckpoint). A name with rotated files of
 * its own is an active file, however it looks (`audit.2026.jsonl`).
 */
function standsAlone(file: string): boolean {
  return rotatedBaseOf(file) !== undefined && listRotated(file).length === 0;
}

function guessCheckpoint(files: readonly string[], named: boolean): string | undefined {
  for (const f of files) {
    const active = rotatedBaseOf(f) ?? f;
    // Files named without their active file (the oldest, one or several, verified before they are
    // archived): the live log's checkpoint lies beyond them and says nothing about them. A set
    // found from the active file's name or the default keeps it, so a deleted active file stays a
    // truncated tail.
    if (named && !files.includes(active)) continue;
    const cp = defaultCheckpointPath(active);
    if (existsSync(cp)) return cp;
  }
  return undefined;
}

/** `SEQ:HASH` as an anchor; null when malformed. */
export function parseAnchor(text: string): ChainAnchor | null {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!m) return null;
  const seq = Number(m[1]);
  return seq >= 1 ? { seq, hash: m[2]! } : null;
}

/** `warden audit verify`. */
export async function runVerify(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' }, 'public-key': { type: 'string' }, file: { type: 'string' }, anchor: { type: 'string' },
      strict: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(VERIFY_HELP);
    return EXIT.ok;
  }
  const anchor = values.anchor === undefined ? undefined : parseAnchor(values.anchor);
  if (anchor === null) {
    io.stderr.write(`warden audit verify: --anchor must be SEQ:HASH (a positive seq and the 64 hex digits of that record's hash), got '${values.anchor}'\n`);
    return EXIT.usage;
  }
  const { files, active, named } = resolveFiles(positionals, values.file, io);
  if (files.length === 0) {
    io.stderr.write(`warden audit verify: no audit file found (${defaultAuditFile(values.file, io.env, io.cwd)})\n`);
    return EXIT.config;
  }
  const checkpoint = values.checkpoint !== undefined ? resolve(io.cwd, values.checkpoint) : guessCheckpoint(files, named === true);
  const publicKey = values['public-key'] !== undefined ? resolve(io.cwd, values['public-key']) : undefined;
  let report;
  const progress = readProgress(io.stderr, 'verifying', files);
  try {
    const options = { ...(checkpoint ? { checkpoint } : {}), ...(publicKey ? { publicKey } : {}), ...(anchor ? { anchor } : {}), onRead: progress.onRead };
    // One name: its set is listed again after the checkpoint is read, so a rotation since the
    // listing above (a live log) cannot leave the file it rotated out of the set.
    report = active !== undefined ? verifyAuditSet(active, options) : verifyAuditFiles(files, options);
  } catch (err) {
    progress.done();
    io.stderr.write(`warden audit verify: ${(err as Error).message}\n`);
    return EXIT.config;
  }
  progress.done();
  // --strict: a warning is a failure too (for a log that was closed, where every record should
  // be covered by the checkpoint and nothing should be torn).
  const strictFailed = values.strict === true && report.ok && report.warnings.length > 0;
  if (values.json) {
    const shown = values.strict ? { ...report, ok: report.ok && !strictFailed, strict: true } : report;
    io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  } else {
    printText(report, strictFailed, io);
  }
  if (report.problem?.code === 'unreadable_file') return EXIT.config;
  return report.ok && !strictFailed ? EXIT.ok : EXIT.failure;
}

function printText(report: VerifyReport, strictFailed: boolean, io: CliIo): void {
  const paint = painter(io.stdout, io.env);
  for (const w of report.warnings) io.stdout.write(`${paint('yellow', 'WARN')} ${describe(w)}\n`);
  if (report.problem) {
    io.stdout.write(`${paint('red', 'FAIL')} ${describe(report.problem)}\n`);
    return;
  }
  const cp = report.checkpoint;
  const cpText = cp.status === 'none' ? 'no checkpoint' : `checkpoint seq ${cp.seq} of ${cp.ts} ${cp.status === 'signed' ? `signed (key ${cp.keyId})` : 'matches'}`;
  const first = (report.anchor?.seq ?? 0) + 1;
  const from = report.anchor ? ` after the anchor (seq ${report.anchor.seq})` : '';
  const span = report.records === 0 ? `no records${from}` : `${report.records} records, seq ${first}..${report.lastSeq}${from}`;
  const after = cp.status !== 'none' && report.uncoveredRecords > 0 ? `, ${report.uncoveredRecords} record(s) after it` : '';
  const summary = `${span} in ${report.files.length} file(s); ${cpText}${after}`;
  if (strictFailed) io.stdout.write(`${paint('red', 'FAIL')} --strict: ${report.warnings.length} warning(s) above (${summary})\n`);
  else io.stdout.write(`${paint('green', 'OK')}   ${summary}\n`);
}
