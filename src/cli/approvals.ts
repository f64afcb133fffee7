import { parseArgs } from 'node:util';
import { describeGrantScope, renderApprovalCard, renderGrantLine, renderPendingLine, terminalSafeJson, type PendingWire } from '../approval/approval-display.js';
import type { Grant } from '../approval/approval-types.js';
import { ControlTokenFileError, ControlUnavailableError, ControlUrlError, createControlClient, resolveControlTarget, type ControlClient } from '../control/control-client.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { didYouMean, withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden approvals <list|show ID|allow ID|deny ID|grants|revoke-grant ID> [options]

Answer and inspect human approvals without a terminal UI (scripts, CI, chat bots).

  list                    pending approvals
  show ID                 one pending approval in full: who, what (the real arguments), why
  allow ID                allow once (or --remember MINUTES for this user through this agent and tool)
  deny ID                 deny (optional --reason, passed to the agent)
  grants                  remembered grants
  revoke-grant ID         revoke a remembered grant

Options:
  --url URL               control API (default $WARDEN_CONTROL_URL, else the URL a running warden
                          wrote to control-url in the token file's folder; unix:/path for a socket)
  --token-file PATH       admin or approver token (default $WARDEN_ADMIN_TOKEN_FILE, else .warden/admin-token)
  --remember MINUTES      with allow: remember for MINUTES
  --match-arguments       with --remember: only for calls with the same arguments (the default
                          for a resource read, prompt fetch, completion or subscription; for a
                          completion: the same argument of the same prompt, the other
                          arguments as they were, any value typed)
  --any-arguments         with --remember: for any arguments (the default for a tool call; for a
                          read it covers every URI of that upstream)
  --any-agent             with --remember: for this user through ANY agent, not just the approved one
  --reason TEXT           with deny: reason shown to the agent
  --json                  print the API answer as JSON
  -h, --help              this help

Exit codes: 0 done, 1 refused by warden (credential rejected, not found, already decided,
self-approval), 2 usage, 3 token file missing or empty, 4 no warden reachable.
`;

type Flags = { url?: string; 'token-file'?: string; remember?: string; 'match-arguments'?: boolean; 'any-arguments'?: boolean; 'any-agent'?: boolean; reason?: string; json?: boolean; help?: boolean };

async function call(client: ControlClient, sub: string, id: string | undefined, flags: Flags): Promise<{ status: number; body: unknown }> {
  switch (sub) {
    case 'list':
      return client.request('GET', '/approvals');
    case 'show':
      return client.request('GET', `/approvals/${encodeURIComponent(id ?? '')}`);
    case 'grants':
      return client.request('GET', '/grants');
    case 'allow': {
      const minutes = flags.remember === undefined ? undefined : Number(flags.remember);
      const scope = flags['any-agent'] ? 'user' : 'principal';
      return client.request('POST', `/approvals/${encodeURIComponent(id ?? '')}/allow`, {
        // Left out unless the operator chose: warden then picks by what is approved (grant-arguments.ts).
        ...(minutes !== undefined ? { rememberMinutes: minutes, ...argumentsChoice(flags), rememberScope: scope } : {}),
      });
    }
    case 'deny':
      return client.request('POST', `/approvals/${encodeURIComponent(id ?? '')}/deny`, flags.reason ? { reason: flags.reason } : {});
    default:
      return client.request('DELETE', `/grants/${encodeURIComponent(id ?? '')}`);
  }
}

function printText(io: CliIo, sub: string, id: string | undefined, body: unknown): void {
  if (sub === 'list') {
    const list = (body as { approvals: PendingWire[] }).approvals;
    io.stdout.write(list.length === 0 ? 'no pending approvals\n' : `${list.map(renderPendingLine).join('\n')}\n`);
  } else if (sub === 'show') {
    const a = body as PendingWire;
    io.stdout.write(`${renderApprovalCard(a, `(${Math.ceil(a.expiresInMs / 1000)} s left)`, Infinity).join('\n')}\n`);
  } else if (sub === 'grants') {
    const list = (body as { grants: Grant[] }).grants;
    io.stdout.write(list.length === 0 ? 'no grants\n' : `${list.map((g) => renderGrantLine(g, Date.now())).join('\n')}\n`);
  } else {
    const grant = (body as { grant?: Grant }).grant;
    const verb = sub === 'allow' ? 'allowed' : sub === 'deny' ? 'denied' : 'revoked';
    io.stdout.write(`${verb} ${id}${grant ? ` (remembered as ${grant.id} for ${describeGrantScope(grant)})` : ''}\n`);
  }
}

/** `warden approvals`: list, allow, deny, grants, revoke-grant over the control API. */
export const approvalsCommand: CliCommand = {
  name: 'approvals',
  summary: 'List, allow or deny pending approvals and manage remembered grants',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          url: { type: 'string' },
          'token-file': { type: 'string' },
          remember: { type: 'string' },
          'match-arguments': { type: 'boolean' },
          'any-arguments': { type: 'boolean' },
          'any-agent': { type: 'boolean' },
          reason: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      io.stderr.write(`warden approvals: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
      return EXIT.usage;
    }
    const flags = parsed.values as Flags;
    if (flags.help) {
      io.stdout.write(HELP);
      return EXIT.ok;
    }
    const [sub, id, ...extra] = parsed.positionals;
    const why = usageProblem(sub, id, extra, flags);
    if (why !== undefined) {
      io.stderr.write(`warden approvals: ${why}\n\n${HELP}`);
      return EXIT.usage;
    }
    try {
      const target = resolveControlTarget({ url: flags.url, tokenFile: flags['token-file'] }, io.env, io.cwd);
      const client = createControlClient(target);
      const res = await call(client, sub as string, id, flags);
      if (res.status >= 400) {
        // A refusal is not data: stderr only, with --json too, as sessions, revoke and audit do.
        // A script reading stdout gets nothing to mistake for an answer, and the exit code says why.
        const err = res.body as { error?: string; message?: string };
        const credential = res.status === 401 ? ` (credential from ${target.tokenFile})` : '';
        io.stderr.write(`warden approvals: ${terminalMessage(`${err.error ?? `HTTP ${res.status}`}: ${err.message ?? ''}`)}${credential}\n`);
        // Every refusal by warden, a rejected credential included, is 1: the same as sessions/revoke.
        return EXIT.failure;
      }
      // Agent text (arguments, names) reaches a terminal here too: no raw C1, bidi or invisible characters.
      if (flags.json) io.stdout.write(`${terminalSafeJson(JSON.stringify(res.body, null, 2))}\n`);
      else printText(io, sub as string, id, res.body);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof ControlTokenFileError) {
        io.stderr.write(`warden approvals: ${err.message}\n`);
        return EXIT.config;
      }
      if (err instanceof ControlUrlError) {
        io.stderr.write(`warden approvals: ${err.message}\n`);
        return EXIT.usage;
      }
      if (err instanceof ControlUnavailableError) {
        io.stderr.write(`warden approvals: ${err.message}\n`);
        return EXIT.unavailable;
      }
      throw err;
    }
  },
};

const SUBCOMMANDS = ['list', 'show', 'allow', 'deny', 'grants', 'revoke-grant'];

/** What is wrong with the command line, or undefined when nothing is. */
function usageProblem(sub: string | undefined, id: string | undefined, extra: readonly string[], flags: Flags): string | undefined {
  if (sub === undefined) return 'missing subcommand';
  if (!SUBCOMMANDS.includes(sub)) return `unknown subcommand '${terminalMessage(sub)}'${didYouMean(sub, SUBCOMMANDS)}`;
  const needsId = sub === 'allow' || sub === 'deny' || sub === 'revoke-grant' || sub === 'show';
  if (needsId && !id) return `${sub} needs an approval or grant ID`;
  if ((!needsId && id) || extra.length > 0) return 'unexpected extra arguments';
  if (flags.remember !== undefined && !/^[1-9]\d{0,4}$/.test(flags.remember)) return '--remember needs a whole number of minutes';
  // A reason on an allow, or a remember on anything but allow, would be dropped without a word.
  if (flags.remember !== undefined && sub !== 'allow') return '--remember only goes with allow';
  if (flags.reason !== undefined && sub !== 'deny') return '--reason only goes with deny';
  // Widening a grant without remembering is a mistake worth stopping: the operator meant something else.
  if ((flags['any-agent'] === true || flags['match-arguments'] === true || flags['any-arguments'] === true) && flags.remember === undefined) {
    return '--any-agent, --match-arguments and --any-arguments only go with --remember';
  }
  if (flags['match-arguments'] === true && flags['any-arguments'] === true) return '--match-arguments and --any-arguments exclude each other';
  return undefined;
}

/** The operator's explicit choice of argument matching for a remembered grant, if any. */
function argumentsChoice(flags: Flags): { matchArguments?: boolean } {
  if (flags['match-arguments']) return { matchArguments: true };
  if (flags['any-arguments']) return { matchArguments: false };
  return {};
}
