import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import { loadWardenConfig } from '../config/load-config.js';
import type { Authenticator } from '../core/authenticator.js';
import { ConfigError, WardenError } from '../core/errors.js';
import type { Guard } from '../core/tool-call.js';
import { createAnonymousAuthenticator } from '../identity/anonymous-authenticator.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createAllowAllGuard } from '../proxy/allow-all-guard.js';
import { startWarden } from '../proxy/start-warden.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';

const HELP = `Usage: warden run --config <warden.yaml>

Starts the MCP proxy: agents connect over stdio (default) and/or Streamable HTTP,
every tools/call is judged before it reaches an upstream tool server.

Options:
  -c, --config <file>  YAML or JSON config (default: warden.yaml)
  -h, --help           Show this help

Logs go to stderr or logging.file, never stdout (stdout is the MCP protocol in stdio mode).
Exit codes: 0 stopped cleanly, 2 usage, 3 config invalid, 4 runtime failure.
`;

/** How `warden run` builds the pieces the proxy is injected with; the integrator replaces these. */
export interface RunDependencies {
  createAuthenticator(config: WardenConfig, configFile: string, logger: Logger): Promise<Authenticator>;
  createGuard(config: WardenConfig, configFile: string, logger: Logger, audit: AuditSink | undefined): Promise<Guard>;
  createAudit?(config: WardenConfig, configFile: string, logger: Logger): Promise<AuditSink | undefined>;
}

/**
 * Anonymous mode only when stated as the unsafe thing it is; no identity section and no
 * `dangerouslyAllowAnonymous: true` is a start-up error, never a silent open door.
 */
export async function defaultAuthenticator(config: WardenConfig, configFile: string, logger: Logger): Promise<Authenticator> {
  if (config.dangerouslyAllowAnonymous) {
    logger.warn('dangerouslyAllowAnonymous: every caller is accepted as the anonymous principal');
    return createAnonymousAuthenticator();
  }
  throw new ConfigError(
    'no identity configured: add an identity section, or set dangerouslyAllowAnonymous: true for local development only',
    { file: configFile, keyPath: 'dangerouslyAllowAnonymous' },
  );
}

export const DEFAULT_RUN_DEPENDENCIES: RunDependencies = {
  createAuthenticator: defaultAuthenticator,
  createGuard: async () => createAllowAllGuard(),
};

/** Builds the `warden run` command with the given dependency factories. */
export function createRunCommand(deps: RunDependencies = DEFAULT_RUN_DEPENDENCIES): CliCommand {
  return {
    name: 'run',
    summary: 'Start the MCP proxy (warden run --config warden.yaml)',
    run: (argv, io) => runWarden(argv, io, deps),
  };
}

async function runWarden(argv: string[], io: CliIo, deps: RunDependencies): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.stderr.write(`warden run: ${(err as Error).message}\n${HELP}`);
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
  } catch (err) {
    io.stderr.write(`warden run: ${(err as Error).message}\n`);
    return err instanceof ConfigError ? EXIT.config : EXIT.unavailable;
  }
  const logger = createLogger({ level: config.logging.level, file: config.logging.file });
  return serve(config, configFile, logger, io, deps);
}

async function serve(config: WardenConfig, configFile: string, logger: Logger, io: CliIo, deps: RunDependencies): Promise<number> {
  let handle;
  try {
    const authenticator = await deps.createAuthenticator(config, configFile, logger);
    const audit = await deps.createAudit?.(config, configFile, logger);
    const guard = await deps.createGuard(config, configFile, logger, audit);
    handle = await startWarden({ config, configFile, authenticator, guard, audit, logger });
  } catch (err) {
    io.stderr.write(`warden run: ${(err as Error).message}\n`);
    logger.flush();
    return err instanceof ConfigError ? EXIT.config : err instanceof WardenError ? EXIT.unavailable : EXIT.unavailable;
  }
  const h = handle;
  const stopped = new Promise<string>((resolveStop) => {
    process.once('SIGINT', () => resolveStop('SIGINT'));
    process.once('SIGTERM', () => resolveStop('SIGTERM'));
    void h.stdioClosed?.then((reason) => resolveStop(`stdio ${reason}`));
  });
  const reason = await stopped;
  logger.info({ reason }, 'shutting down');
  await h.close();
  // stdin would keep the event loop alive after a signal; warden no longer reads it.
  if (config.listen.stdio) process.stdin.destroy();
  await new Promise<void>((done) => logger.flush(() => done()));
  return EXIT.ok;
}

export const runCommand: CliCommand = createRunCommand();
