/**
 * An upstream that did not start: its message carries the full detail for the operator's log
 * (the child's last stderr lines, the SDK's error text with an HTTP body), `summary` only what the
 * agent may be told. A child's stderr, an HTTP error body, a URL or a command line can hold secrets
 * (an API key printed in a usage message, a token in a query string or argument), so the summary
 * is built from warden's own words and numbers alone: an errno code, an exit code or signal, an
 * HTTP status, a JSON-RPC error code, a time limit.
 */
export class UpstreamStartError extends Error {
  constructor(
    readonly upstream: string,
    /** Safe to show the agent, e.g. `command not found (ENOENT)`, `exited with code 3`. */
    readonly summary: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamStartError';
  }
}

const ERRNO_SAYS: Readonly<Record<string, string>> = {
  ENOENT: 'command not found',
  EACCES: 'permission denied',
  ENOEXEC: 'not an executable',
  ENOTDIR: 'a path in its command or cwd is not a folder',
  EMFILE: 'warden is out of file descriptors',
  ENFILE: 'the system is out of file descriptors',
  EAGAIN: 'the system is out of processes',
  ENOMEM: 'out of memory',
};

/** A spawn failure, by its errno code only (the message names the command, which may hold an argument). */
export function spawnFailureSummary(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return 'could not be started';
  const says = ERRNO_SAYS[code];
  return says ? `${says} (${code})` : `could not be started (${code})`;
}

/** How a child process ended, from its exit code or signal. */
export function exitSummary(exitCode: number | null, signal: NodeJS.Signals | null): string | undefined {
  if (exitCode !== null) return `exited with code ${exitCode}`;
  if (signal !== null) return `was killed by ${signal}`;
  return undefined;
}

/**
 * A loss while starting, as the connection words it (`closed unexpectedly; its stderr ended
 * with: …`, `is unreachable (ECONNREFUSED)`, `lost its session (HTTP 404)`): only a phrase warden
 * wrote itself is kept, everything after the first `;` (the stderr tail) is dropped.
 */
export function lossSummary(reason: string): string {
  const head = reason.split(';')[0]!.trim();
  const known = /^(closed unexpectedly|dropped the connection while answering|lost its session \(HTTP \d{3}\)|is unreachable \([A-Za-z0-9_ .:-]{1,60}\)|is not reading its input)/.exec(head);
  return known ? known[1]! : 'was lost';
}

/** An `initialize` that did not succeed without a loss: timed out, not sent, or answered with an error. */
export function initializeFailureSummary(error: { code: number; message: string }, timeoutCode: number, closedCode: number, initializeMs: number): string {
  if (error.code === timeoutCode) return `did not answer initialize within ${initializeMs} ms`;
  if (error.code === closedCode) {
    // The SDK's HTTP error text ends with the response body: only its status is kept.
    const status = typeof error.message === 'string' ? /\bHTTP (\d{3})\b/.exec(error.message) : null;
    return status ? `answered initialize with HTTP ${status[1]}` : 'initialize could not be sent';
  }
  // The code is the upstream's own: only an integer is a number warden may repeat (a string or an
  // object could carry anything the upstream put in it, an API key from its configuration too).
  return Number.isSafeInteger(error.code) ? `answered initialize with error ${error.code}` : 'answered initialize with an error';
}
