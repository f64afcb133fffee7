import { approvalsCommand } from './approvals.js';
import { approveCommand } from './approve.js';
import { auditCommand } from './audit.js';
import type { CliCommand } from './cli-command.js';
import { pinsCommand } from './pins.js';
import { policyCommand } from './policy.js';
import { revokeCommand } from './revoke.js';
import { runCommand } from './run.js';
import { sessionsCommand } from './sessions.js';
import { tokenCommand } from './token.js';

/**
 * The table of `warden` subcommands. Each area adds its command here (one line).
 * Kept in its own file so main.ts stays a thin dispatcher.
 */
export const COMMANDS: readonly CliCommand[] = [
  runCommand,
  tokenCommand,
  policyCommand,
  approveCommand,
  approvalsCommand,
  auditCommand,
  sessionsCommand,
  revokeCommand,
  pinsCommand,
];
