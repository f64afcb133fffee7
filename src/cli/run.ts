import { fstatSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { WardenConfig } from '../config/config-schema.js';
import { loadWardenConfig } from '../config/load-config.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, finishLogger, type Logger } from '../logging/logger.js';
import { startWarden, type WardenHandle } from '../proxy/start-warden.js';
import { composeRuntime, type Runtime } from '../runtime/compose-runtime.js';
import { withConfigFileOnListenFailure } from '../runtime/operator-surfaces.js';
import { StartupInterruptedError } from '../runtime/startup-stop.js';
import { checkTrustedInputs } from '../runtime/trusted-inputs.js';
import { preparePrivateDirs } from '../runtime/private-dirs.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { listenForReloadSignal, type ReloadSignal } from './reload-signal.js';
import { listenForStopSignals, type StopRequest } from './stop-signals.js';
import { withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden run --config <warden.yaml>

Starts the MCP proxy: agents connect over stdio (default) and/or Streamable HTTP,
every tools/call is judged before it reaches an upstream tool server.

Options:
  -c, --config <file>  YAML or JSON config (default: warden.yaml)
  -h, --help           Show this help

Relative paths in the config (files, an upstream's cwd) resolve against the config file's
folder, not the current directory; an upstream without cwd runs in that folder.
Logs go to stderr or logging.file, never stdout (stdout is the MCP protocol in stdio mode).
Signals: SIGHUP reloads the policy files (one during start-up is applied once started);
SIGINT/SIGTERM stop cleanly (audit flushed, upstream children stopped), also during
start-up; a second SIGINT/SIGTERM while stopping is ignored (the stop finishes).
Exit codes: 0 stopped cleanly, 2 usage, 3 config invalid, 4 runtime failure (e.g. another
warden writes this audit.file).
`;

/** Builds the `warden run` command. */
export function createRunCommand(): CliCommand {
  return {
    name: 'run',
    summary: 'Start the MCP proxy (warden run --config warden.yaml)',
    run: (argv, io) => runWarden(argv, io),
  };
}

async function runWarden(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.stderr.write(`warden run: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const configFile = resolve(io.cwd, values.config ?? 'warden.yaml');
  let config: WardenConfig;
  try {
    config = loadWardenConfig(configFile, io.env);
    checkTrustedInputs(config, configFile);
    // Before any secret, state or log is written: private folders, or a refusal naming the key.
    preparePrivateDirs(config, configFile, { note: (m) => io.stderr.write(`warden run: ${terminalMessage(m)}\n`) });
  } catch (err) {
    io.stderr.write(`warden run: ${terminalMessage((err as Error).message)}\n`);
    return err instanceof ConfigError ? EXIT.config : EXIT.unavailable;
  }
  let logger: Logger;
  try {
    if (config.listen.stdio && config.logging.file !== undefined && isStdout(config.logging.file)) {
      io.stderr.write(`warden run: ${terminalMessage(`${configFile}: logging.file: ${config.logging.file} is warden's stdout, which carries the MCP protocol in stdio mode: log to stderr (leave logging.file out) or to a file`)}\n`);
      return EXIT.config;
    }
    logger = createLogger({ level: config.logging.level, file: config.logging.file });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    io.stderr.write(`warden run: ${terminalMessage(`${configFile}: logging.file: cannot open ${config.logging.file ?? 'the log'}: ${code}`)}\n`);
    return EXIT.config;
  }
  return serve(config, configFile, logger, io);
}

async function serve(config: WardenConfig, configFile: string, logger: Logger, io: CliIo): Promise<number> {
  // Before anything is built: a signal during start-up must close what exists, not kill the process.
  const stop = listenForStopSignals(logger);
  const hup = listenForReloadSignal(logger);
  try {
    const code = await startAndServe(config, configFile, logger, io, stop, hup);
    // Bounded: a stderr nobody reads must not keep a stopped warden alive. Everything is closed
    // by now (sessions, upstream children, audit with its checkpoint) and the log flushed, or
    // given up on after the bound; the only thing that can still hold the event loop open is a
    // write to a stderr (or stdout) nobody reads, so warden exits explicitly.
    await finishLogger(logger, 2_000);
    process.exit(code);
  } finally {
    hup.dispose();
    stop.dispose();
  }
}

async function startAndServe(config: WardenConfig, configFile: string, logger: Logger, io: CliIo, stop: StopRequest, hup: ReloadSignal): Promise<number> {
  let runtime: Runtime;
  let handle: WardenHandle;
  try {
    runtime = await composeRuntime(config, configFile, logger, io.env, stop.signal);
  } catch (err) {
    // composeRuntime closed what it had built: warden.stop recorded, audit checkpoint closed.
    if (err instanceof StartupInterruptedError) {
      logger.info({ reason: err.reason }, 'start-up interrupted; stopped cleanly');
      return EXIT.ok;
    }
    return startFailed(err, io);
  }
  try {
    handle = await startWarden({ config, configFile, authenticator: runtime.authenticator, guard: runtime.guard, audit: runtime.audit, logger });
  } catch (err) {
    await runtime.close('start_failed');
    return startFailed(withConfigFileOnListenFailure(err, configFile), io);
  }
  // A signal that arrived while the listeners started has already resolved `requested`: the
  // proxy is closed again right away, before it handles any message.
  runtime.attach(handle);
  hup.ready(() => runtime.reloadPolicy());
  void handle.stdioClosed?.then((why) => stop.request(`stdio ${why}`));
  const reason = await stop.requested;
  hup.stopping();
  logger.info({ reason }, 'shutting down');
  await handle.close();
  // Flush every buffered audit record (and the checkpoint) before exit.
  await runtime.close(reason);
  // stdin would keep the event loop alive after a signal; warden no longer reads it.
  if (config.listen.stdio) process.stdin.destroy();
  return EXIT.ok;
}

/**
 * True when `file` is the same file as fd 1 (`/dev/stdout`, `/proc/self/fd/1`, or the file or
 * pipe stdout was redirected to): log lines written there would land among the MCP messages.
 */
function isStdout(file: string): boolean {
  try {
    const out = fstatSync(1);
    // A terminal or /dev/null on stdout carries no agent's protocol.
    if (out.isCharacterDevice()) return false;
    const log = statSync(file);
    return out.dev === log.dev && out.ino === log.ino;
  } catch {
    // No stdout, or no such file yet: not the same file.
    return false;
  }
}

function startFailed(err: unknown, io: CliIo): number {
  io.stderr.write(`warden run: ${terminalMessage((err as Error).message)}\n`);
  return err instanceof ConfigError ? EXIT.config : EXIT.unavailable;
}

export const runCommand: CliCommand = createRunCommand();
