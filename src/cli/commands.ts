import type { CliCommand } from './cli-command.js';
import { runCommand } from './run.js';

/**
 * The table of `warden` subcommands. Each area adds its command here (one line).
 * Kept in its own file so main.ts stays a thin dispatcher.
 */
export const COMMANDS: readonly CliCommand[] = [runCommand];
