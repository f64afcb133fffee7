import { parseArgs } from 'node:util';
import { controlRequest, resolveControlTarget } from '../sessions/control-client.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden revoke (--user USER | --session SESSION | --agent AGENT) [--url URL] [--token-file FILE] [--json]

Revokes now, through a running warden's control API (POST /revoke):
  --user USER        every token of this user (sub) issued up to now; a fresh sign-in works again
  --session SESSION  one warden session id (see \`warden sessions\`), whatever token it presents
  --agent AGENT      every token in which this agent (act.sub) acts, issued up to now
Open sessions of the subject are closed and its pending approvals withdrawn.

Options:
  --url URL          control API URL (default: $WARDEN_CONTROL_URL, else the URL a running
                     warden wrote to control-url in the token file's folder; unix:/path for a socket)
  --token-file FILE  admin token file (default: $WARDEN_ADMIN_TOKEN_FILE, else .warden/admin-token)
  --json             print the result as JSON
  -h, --help         show this help

Exit codes: 0 ok, 1 refused by warden (credential rejected, bad request), 2 usage,
3 token file missing or empty, 4 no warden reachable (no or stale control-url file).
`;

async function run(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        // multiple: a repeated target would otherwise keep only its last value, silently.
        user: { type: 'string', multiple: true },
        session: { type: 'string', multiple: true },
        agent: { type: 'string', multiple: true },
        url: { type: 'string' },
        'token-file': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`warden revoke: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const given = (['user', 'session', 'agent'] as const).flatMap((k) => (values[k] ?? []).map((v) => [k, v] as const));
  const [key, value] = given[0] ?? [];
  if (given.length !== 1 || key === undefined || !value) {
    io.stderr.write(`warden revoke: give exactly one of --user, --session, --agent, once\n\n${HELP}`);
    return EXIT.usage;
  }
  const target = resolveControlTarget({ url: values.url, tokenFile: values['token-file'] }, io);
  if ('exit' in target) {
    io.stderr.write(`warden revoke: ${target.message}\n`);
    return target.exit;
  }
  const res = await controlRequest(target, 'POST', '/revoke', { [key]: value });
  if (res.kind === 'failed') {
    io.stderr.write(`warden revoke: ${res.message}\n`);
    return res.exit;
  }
  const body = res.body as { revoked: { id: string; at: number }; sessionIds: string[]; saved?: boolean };
  // In force either way; not saved means a restart of that warden would forget it: the operator must know.
  const unsaved = body.saved === false;
  if (unsaved) io.stderr.write('warden revoke: in force now, but warden could not save it to its revocations file (see its log): a restart would forget it\n');
  if (values.json) {
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return unsaved ? EXIT.failure : EXIT.ok;
  }
  const sessions = body.sessionIds.length === 0 ? 'no open sessions' : `closed ${body.sessionIds.length} session(s): ${body.sessionIds.join(', ')}`;
  io.stdout.write(`revoked ${key} ${JSON.stringify(value)} at ${new Date(body.revoked.at).toISOString()} (entry ${body.revoked.id}); ${sessions}\n`);
  return unsaved ? EXIT.failure : EXIT.ok;
}

export const revokeCommand: CliCommand = { name: 'revoke', summary: 'Revoke a user, session or agent in a running warden', run };
