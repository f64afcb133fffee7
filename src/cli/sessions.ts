import { parseArgs } from 'node:util';
import type { SessionView } from '../sessions/session-registry.js';
import { controlRequest, resolveControlTarget } from '../sessions/control-client.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';
import { formatAge, renderTable } from '../sessions/render-table.js';

const HELP = `Usage: warden sessions [--url URL] [--token-file FILE] [--json]

Lists the active sessions of a running warden (control API GET /sessions).

Options:
  --url URL          control API URL (default: $WARDEN_CONTROL_URL, else the URL a running
                     warden wrote to control-url in the token file's folder; unix:/path for a socket)
  --token-file FILE  admin token file (default: $WARDEN_ADMIN_TOKEN_FILE, else .warden/admin-token)
  --json             print the sessions as JSON
  -h, --help         show this help

Exit codes: 0 ok, 1 refused by warden (credential rejected, bad request), 2 usage,
3 token file missing or empty, 4 no warden reachable (no or stale control-url file).
`;

function row(s: SessionView): string[] {
  const risk = s.risk.last === undefined ? '-' : `${s.risk.last}/${s.risk.max ?? '-'}`;
  return [
    s.sessionId,
    s.anonymous ? `${s.user} (anonymous)` : s.user,
    s.actor === undefined ? '-' : s.actorIssuer === undefined ? s.actor : `${s.actor} [${s.actorIssuer}]`,
    s.transport,
    s.remoteAddress ?? '-',
    formatAge(s.ageMs),
    `${s.calls.total} (${s.calls.approve}a ${s.calls.block}b)`,
    risk,
  ];
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: 'string' }, 'token-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`warden sessions: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const target = resolveControlTarget({ url: values.url, tokenFile: values['token-file'] }, io);
  if ('exit' in target) {
    io.stderr.write(`warden sessions: ${target.message}\n`);
    return target.exit;
  }
  const res = await controlRequest(target, 'GET', '/sessions');
  if (res.kind === 'failed') {
    io.stderr.write(`warden sessions: ${res.message}\n`);
    return res.exit;
  }
  const sessions = ((res.body as { sessions?: SessionView[] } | undefined)?.sessions ?? []) as SessionView[];
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ sessions }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (sessions.length === 0) {
    io.stdout.write('no active sessions\n');
    return EXIT.ok;
  }
  io.stdout.write(renderTable(['SESSION', 'USER', 'AGENT', 'TRANSPORT', 'ADDRESS', 'AGE', 'CALLS', 'RISK last/max'], sessions.map(row)));
  return EXIT.ok;
}

export const sessionsCommand: CliCommand = { name: 'sessions', summary: 'List active sessions of a running warden', run };
