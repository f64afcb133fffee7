import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { runVerify } from '../audit/cli-verify.js';
import { runKeygen } from '../audit/cli-keygen.js';
import { runShow, runTail } from '../audit/cli-read.js';
import { runQuery } from '../audit/cli-query.js';
import { runStats } from '../audit/cli-stats.js';

const SUBCOMMANDS: Record<string, { summary: string; run: (argv: string[], io: CliIo) => Promise<number> }> = {
  verify: { summary: 'check the hash chain, checkpoint and signature', run: runVerify },
  tail: { summary: 'print the last records; -f to follow', run: runTail },
  show: { summary: 'the whole story of one call, step by step', run: runShow },
  query: { summary: 'list calls by user, agent, tool, action, time, score', run: runQuery },
  stats: { summary: 'calls per decided and enforced action, top blocked tools, riskiest principals', run: runStats },
  keygen: { summary: 'write an Ed25519 key pair for signing checkpoints', run: runKeygen },
};

const HELP = `Usage: warden audit <subcommand> [options]

Subcommands:
${Object.entries(SUBCOMMANDS).map(([n, s]) => `  ${n.padEnd(7)} ${s.summary}`).join('\n')}

Default log file: --file F, else $WARDEN_AUDIT_FILE, else ./warden-audit.jsonl (rotated
siblings warden-audit.N.jsonl are read too). Run \`warden audit <subcommand> --help\`.
`;

/** `warden audit …`: reads and verifies the tamper-evident audit trail. */
export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'Verify and read the tamper-evident audit trail',
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    const command = SUBCOMMANDS[sub];
    if (!command) {
      io.stderr.write(`warden audit: unknown subcommand '${sub}'\n\n${HELP}`);
      return EXIT.usage;
    }
    try {
      return await command.run(rest, io);
    } catch (err) {
      // parseArgs throws on unknown or malformed options: that is a usage error, not a crash.
      if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        io.stderr.write(`warden audit ${sub}: ${(err as Error).message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
  },
};
