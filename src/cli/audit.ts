import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { terminalMessage } from './terminal-message.js';
import { runVerify, VERIFY_HELP } from '../audit/cli-verify.js';
import { KEYGEN_HELP, runKeygen } from '../audit/cli-keygen.js';
import { runShow, runTail, SHOW_HELP, TAIL_HELP } from '../audit/cli-read.js';
import { QUERY_HELP, runQuery } from '../audit/cli-query.js';
import { runStats, STATS_HELP } from '../audit/cli-stats.js';
import { AuditUnreadableError } from '../audit/audit-errors.js';
import { didYouMean, withOptionHint } from './did-you-mean.js';

const SUBCOMMANDS: Record<string, { summary: string; help: string; run: (argv: string[], io: CliIo) => Promise<number> }> = {
  verify: { summary: 'check the hash chain, checkpoint and signature', help: VERIFY_HELP, run: runVerify },
  tail: { summary: 'print the last records; -f to follow', help: TAIL_HELP, run: runTail },
  show: { summary: 'the whole story of one call, step by step', help: SHOW_HELP, run: runShow },
  query: { summary: 'list calls by user, agent, tool, action, time, score', help: QUERY_HELP, run: runQuery },
  stats: { summary: 'calls per decided and enforced action, top blocked tools, riskiest principals', help: STATS_HELP, run: runStats },
  keygen: { summary: 'write an Ed25519 key pair for signing checkpoints', help: KEYGEN_HELP, run: runKeygen },
};

const HELP = `Usage: warden audit <subcommand> [options]

Subcommands:
${Object.entries(SUBCOMMANDS).map(([n, s]) => `  ${n.padEnd(7)} ${s.summary}`).join('\n')}

Default log file: --file F, else $WARDEN_AUDIT_FILE, else ./warden-audit.jsonl (rotated
siblings warden-audit.N.jsonl are read too). Run \`warden audit <subcommand> --help\`.
Exit codes: 0 ok, 1 verify found a problem (show: no such call; keygen: key files exist),
2 usage, 3 unreadable input or no audit file, 4 other runtime error.
`;

/** `warden audit …`: reads and verifies the tamper-evident audit trail. */
export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'Verify and read the tamper-evident audit trail',
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === undefined) {
      io.stderr.write(`warden audit: missing subcommand\n\n${HELP}`);
      return EXIT.usage;
    }
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(HELP);
      return EXIT.ok;
    }
    const command = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (!command) {
      io.stderr.write(`warden audit: unknown subcommand '${terminalMessage(sub)}'${didYouMean(sub, Object.keys(SUBCOMMANDS))}\n\n${HELP}`);
      return EXIT.usage;
    }
    try {
      return await command.run(rest, io);
    } catch (err) {
      // parseArgs throws on unknown or malformed options: that is a usage error, not a crash.
      if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        io.stderr.write(`warden audit ${sub}: ${terminalMessage(withOptionHint((err as Error).message, command.help))}\n`);
        return EXIT.usage;
      }
      // A log that cannot be read (a directory, a FIFO, no permission) is bad input: exit 3 as
      // documented, under this command's name, rather than a bare runtime failure.
      if (err instanceof AuditUnreadableError) {
        io.stderr.write(`warden audit ${sub}: ${terminalMessage(err.message)}\n`);
        return EXIT.config;
      }
      throw err;
    }
  },
};
