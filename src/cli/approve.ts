import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { PendingWire } from '../approval/approval-display.js';
import { ApproverConsole, type QuitReason } from '../approval/approver-console.js';
import { ControlRefusedError, ControlTokenFileError, ControlUrlError, createControlClient, resolveControlTarget, type ControlClient } from '../control/control-client.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden approve [options]

Interactive human approval: shows each pending tool call as it arrives (who, what, why, time
left) and asks for a single-key answer:
  a  allow once     d  deny (then an optional reason, Enter)
  r  allow and remember for N minutes (then N, Enter)     q  quit
Answers are read only from a terminal: with stdin a pipe or a file, requests are shown and
nothing is answered (q still quits; scripts use \`warden approvals\`). With stdout a pipe or a
file (\`warden approve | tee log\`), the console prints plain lines: no redrawing, no bell.

Options:
  --url URL                control API (default $WARDEN_CONTROL_URL, else the URL a running warden
                           wrote to control-url in the token file's folder; unix:/path for a socket)
  --token-file PATH        admin or approver token (default $WARDEN_ADMIN_TOKEN_FILE, else .warden/admin-token)
  --notify-command CMD     run CMD (via the shell) on new requests, one at a time (requests arriving
                           while it runs: one more run for the newest); details are passed in the
                           environment: WARDEN_APPROVAL_ID, WARDEN_APPROVAL_USER, WARDEN_APPROVAL_TOOL
  -h, --help               this help

Exit codes: 0 quit (q), 1 refused by warden (credential rejected), 2 usage (also: the input
ended, as from a pipe or /dev/null: answers are typed at a terminal), 3 token file
missing or empty, 4 no warden reachable, 130 interrupted (Ctrl-C or SIGINT; an answer
already given is still sent first).
`;

/**
 * Runs the hook on new requests without interpolating agent-controlled text into the command line,
 * one process at a time: an agent that calls and cancels in a loop makes (and withdraws) a request
 * each time, and a process per request piled up shells on the approver's machine as fast as the
 * agent could loop. Requests that arrive while the hook runs are announced by one more run, for
 * the newest of them, once it has ended.
 */
function notifier(command: string, env: NodeJS.ProcessEnv): (a: PendingWire) => void {
  let running = false;
  let next: PendingWire | undefined;
  const run = (a: PendingWire): void => {
    running = true;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      running = false;
      const waiting = next;
      next = undefined;
      if (waiting) run(waiting);
    };
    try {
      const child = spawn(command, {
        shell: true,
        stdio: 'ignore',
        env: { ...env, WARDEN_APPROVAL_ID: a.id, WARDEN_APPROVAL_USER: a.principal.user, WARDEN_APPROVAL_TOOL: `${a.upstream}/${a.tool}` },
      });
      child.on('error', end);
      child.on('exit', end);
      child.unref();
    } catch {
      // a broken hook must not stop approvals
      end();
    }
  };
  return (a) => {
    if (running) next = a;
    else run(a);
  };
}

function setRaw(io: CliIo, on: boolean): void {
  const stdin = io.stdin as NodeJS.ReadStream;
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') stdin.setRawMode(on);
}

const MAX_BACKOFF_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

/**
 * Follows the SSE stream; after it has worked once, a dropped connection is retried with backoff
 * (warden restarting). A refusal (bad token) or a first connection failure ends the command.
 */
async function follow(client: ControlClient, ui: ApproverConsole, io: CliIo, signal: AbortSignal, tokenFile: string): Promise<number> {
  let opened = false;
  let delay = 1_000;
  for (;;) {
    try {
      await client.stream('/approvals/stream', (event, data) => {
        if (event === 'pending') ui.onPending(data as PendingWire);
        else if (event === 'resolved') ui.onResolved(data as { id: string; outcome: string });
      }, signal, () => {
        opened = true;
        delay = 1_000;
      });
    } catch (err) {
      if (signal.aborted) return EXIT.ok;
      if (!opened || err instanceof ControlRefusedError) {
        // A rejected credential names the file it came from, so the operator knows which one to fix.
        const credential = err instanceof ControlRefusedError && (err.status === 401 || err.status === 403) ? ` (credential from ${tokenFile})` : '';
        io.stderr.write(`warden approve: ${err instanceof Error ? err.message : String(err)}${credential}\n`);
        // Refused by warden (credential rejected) is 1 like every CLI refusal; no warden is 4.
        return err instanceof ControlRefusedError ? EXIT.failure : EXIT.unavailable;
      }
    }
    if (signal.aborted) return EXIT.ok;
    io.stderr.write(`warden approve: lost the control API stream; retrying in ${delay / 1000} s\n`);
    await sleep(delay, signal);
    delay = Math.min(delay * 2, MAX_BACKOFF_MS);
  }
}

/** `warden approve`: the interactive approval console over the control API's SSE stream. */
export const approveCommand: CliCommand = {
  name: 'approve',
  summary: 'Answer pending approvals interactively (single-key, live)',
  async run(argv, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { url: { type: 'string' }, 'token-file': { type: 'string' }, 'notify-command': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      }));
    } catch (err) {
      io.stderr.write(`warden approve: ${terminalMessage(withOptionHint((err as Error).message, HELP))}\n\n${HELP}`);
      return EXIT.usage;
    }
    if (values.help) {
      io.stdout.write(HELP);
      return EXIT.ok;
    }
    let client;
    let tokenFile: string;
    try {
      const target = resolveControlTarget({ url: values.url, tokenFile: values['token-file'] }, io.env, io.cwd);
      tokenFile = target.tokenFile;
      client = createControlClient(target);
    } catch (err) {
      io.stderr.write(`warden approve: ${(err as Error).message}\n`);
      return err instanceof ControlTokenFileError ? EXIT.config : err instanceof ControlUrlError ? EXIT.usage : EXIT.unavailable;
    }
    const hook = values['notify-command'];
    const plain = io.stdout.isTTY !== true;
    const answerKeys = io.stdin.isTTY === true;
    const ui = new ApproverConsole(client, {
      out: io.stdout,
      clock: () => Date.now(),
      columns: () => io.stdout.columns,
      plain,
      answerKeys,
      // Piped into `tee`, the approver still sits at a terminal: the bell goes there, not into the log.
      ...(plain ? { bell: () => void (io.stderr.isTTY === true && io.stderr.write('\x07')) } : {}),
      ...(hook ? { onNewRequest: notifier(hook, io.env) } : {}),
    });
    if (!answerKeys) {
      io.stderr.write('warden approve: the input is not a terminal: requests are shown, none is answered here (answer them with `warden approvals allow|deny ID`)\n');
    }
    // Without raw mode (stdin not a terminal) Ctrl-C is a signal, as is `kill -INT`: an interruption.
    const onSigint = (): void => ui.interrupt();
    process.on('SIGINT', onSigint);
    const ac = new AbortController();
    const onData = (chunk: Buffer | string): void => ui.onKeys(String(chunk));
    const onEnd = (): void => ui.inputEnded();
    setRaw(io, true);
    io.stdin.on('data', onData);
    io.stdin.once('end', onEnd);
    io.stdin.resume();
    const ticker = setInterval(() => ui.tick(), 1_000);
    ui.start();
    const streamed = follow(client, ui, io, ac.signal, tokenFile);
    const quit = ui.quit.then((why: QuitReason) => {
      if (why === 'quit') return EXIT.ok;
      if (why === 'interrupted') return EXIT.interrupted;
      // A usage error like any other: on stderr under the command's name, stdout left to the console.
      io.stderr.write('warden approve: the input ended: answers are typed at a terminal (scripts use `warden approvals`)\n');
      return EXIT.usage;
    });
    const code = await Promise.race([quit, streamed]);
    await ui.answersSent();
    ac.abort();
    clearInterval(ticker);
    process.off('SIGINT', onSigint);
    io.stdin.off('data', onData);
    io.stdin.off('end', onEnd);
    setRaw(io, false);
    io.stdin.pause();
    return code;
  },
};
