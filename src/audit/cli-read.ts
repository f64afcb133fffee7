import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { defaultAuditFile, expandSet, lastRecords, streamRecords } from './read-records.js';
import { readProgress } from './read-progress.js';
import { follow } from './tail-follow.js';
import { formatRecord, formatStep, painter, recordJson, textOf, timeOf, writeJsonArray, type Paint } from './cli-format.js';
import type { AuditRecord } from './record-codec.js';
import { terminalJson, terminalText } from './escape-unsafe.js';
import { terminalMessage } from '../cli/terminal-message.js';

export const TAIL_HELP = `Usage: warden audit tail [FILE] [-n N] [-f] [--json]

Prints the last N records (default 20) of the log, one line each; -f keeps following new
records (across rotation) until interrupted. --json prints the records as JSON Lines.
Colour only when stdout is a TTY and NO_COLOR is unset.
With -f, a log path that is missing, cannot be opened or is not a regular file (a rotation in
progress) is waited for, said once on stderr; a read of the followed file that fails ends it.
Exit codes: 0 ok (with -f: interrupted), 2 usage, 3 no audit file or it cannot be read (with
-f: a read of the followed file failed), 4 other runtime error.
`;

export const SHOW_HELP = `Usage: warden audit show CALL_ID [--file F] [--json]

Prints every record of one tool call, step by step, with times relative to the first step.
Exit codes: 0 found, 1 no record has that call id, 2 usage, 3 no audit file.
`;

function emit(io: CliIo, records: readonly AuditRecord[], json: boolean, paint: Paint): void {
  for (const r of records) io.stdout.write(json ? `${terminalJson(recordJson(r))}\n` : `${formatRecord(r, paint)}\n`);
}

/** `warden audit tail`. */
export async function runTail(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string' }, n: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(TAIL_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 1) {
    io.stderr.write(`warden audit tail: one FILE at most (the rest of its rotated set is read with it), got ${positionals.length}\n`);
    return EXIT.usage;
  }
  const count = values.n === undefined ? 20 : Number(values.n);
  if (!Number.isInteger(count) || count < 0) {
    io.stderr.write('warden audit tail: -n must be a non-negative integer\n');
    return EXIT.usage;
  }
  const active = defaultAuditFile(positionals[0] ?? values.file, io.env, io.cwd);
  const files = expandSet(active);
  if (files.length === 0 && !values.follow) {
    io.stderr.write(`warden audit tail: ${active}: no such audit file\n`);
    return EXIT.config;
  }
  const paint = painter(io.stdout, io.env);
  const print = (records: readonly AuditRecord[]): void => emit(io, records, values.json === true, paint);
  if (!values.follow) {
    // A ring of the last N while streaming: the set is never held (listed again as it is opened).
    print(lastRecords(files, count, { active }));
    return EXIT.ok;
  }
  // Following: the active file's last records are read by the follower itself, which goes on from
  // where that read ended. Read apart (then reopened at its end), records written in between were
  // in neither. Without records to show, or with the active file missing or a second name of a
  // rotated file (read under that name), the follower starts at the end.
  if (count === 0 || !files.includes(active)) {
    print(lastRecords(files, count, { active }));
    return follow(active, io, print);
  }
  return follow(active, io, print, { records: lastRecords(files.filter((f) => f !== active), count), count });
}

/** `warden audit show CALL_ID`. */
export async function runShow(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(SHOW_HELP);
    return EXIT.ok;
  }
  const callId = positionals[0];
  if (callId === undefined || positionals.length > 1) {
    io.stderr.write(`warden audit show: ${callId === undefined ? 'missing CALL_ID' : 'one CALL_ID at a time (the log is --file F)'}\n\n${SHOW_HELP}`);
    return EXIT.usage;
  }
  const active = defaultAuditFile(values.file, io.env, io.cwd);
  const files = expandSet(active);
  // A wrong path is not "no such call": say which file is missing, as tail, query and stats do.
  if (files.length === 0) {
    io.stderr.write(`warden audit show: ${active}: no such audit file\n`);
    return EXIT.config;
  }
  const steps: AuditRecord[] = [];
  const progress = readProgress(io.stderr, 'searching', files);
  for (const r of streamRecords(files, { onRead: progress.onRead, active })) if (r.callId === callId) steps.push(r);
  progress.done();
  if (values.json) {
    writeJsonArray(io.stdout, steps);
    return steps.length > 0 ? EXIT.ok : EXIT.failure;
  }
  if (steps.length === 0) {
    io.stderr.write(`warden audit show: no records for call ${callId}\n`);
    return EXIT.failure;
  }
  const paint = painter(io.stdout, io.env);
  const first = steps[0] as AuditRecord;
  const t0 = timeOf(first.ts);
  const last = steps.at(-1) as AuditRecord;
  io.stdout.write(`call ${paint('cyan', terminalText(callId))}  session ${terminalText(textOf(first.sessionId ?? '-'))}  started ${terminalText(textOf(first.ts))}  ${steps.length} steps, ${timeOf(last.ts) - t0} ms\n`);
  for (const r of steps) io.stdout.write(`${formatStep(r, t0, paint)}\n`);
  return EXIT.ok;
}
