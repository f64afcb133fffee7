#!/usr/bin/env node
import { COMMANDS } from './commands.js';
import { EXIT, type CliIo } from './cli-command.js';
import { didYouMean } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';
import { WARDEN_VERSION } from '../core/warden-version.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'warden: runtime-identity guard for AI agents (an MCP proxy)',
    '',
    'Usage: warden <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `warden <command> --help` for the options of one command.',
    'Exit codes: 0 ok, 1 a problem found (verification, scenario step, denial), 2 usage, 3 config or input invalid, 4 unavailable or another runtime failure (e.g. a file that cannot be written), 130 interrupted (Ctrl-C in `warden approve`).',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
  const [name, ...rest] = argv;
  // `warden help audit` is `warden audit --help`, as in git and npm.
  if (name === 'help' && rest.length > 0) return main([...rest, '--help']);
  if (name === undefined) {
    // A usage error, reported on stderr as every subcommand reports its own.
    io.stderr.write(`warden: missing command\n\n${usage()}`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${WARDEN_VERSION}\n`);
    return EXIT.ok;
  }
  // `warden audit query --json | head`: a reader that leaves early is not an error to report
  // with a stack trace. `run` is left alone: there stdout is the MCP stream, handled by the proxy.
  if (name !== 'run') process.stdout.on('error', quietOnClosedReader);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = didYouMean(name, COMMANDS.map((c) => c.name));
    io.stderr.write(`warden: unknown command '${terminalMessage(name)}'${hint}\n\n${usage()}`);
    return EXIT.usage;
  }
  return command.run(rest, io);
}

/** EPIPE on stdout: the reader is gone, so stop quietly (exit 0, as if it had read it all). */
function quietOnClosedReader(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`warden: ${terminalMessage(err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = EXIT.unavailable;
  },
);
