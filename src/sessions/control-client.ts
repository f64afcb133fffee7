import { EXIT, type CliIo } from '../cli/cli-command.js';
import {
  ControlTokenFileError,
  ControlUnavailableError,
  ControlUrlError,
  createControlClient,
  resolveControlTarget as resolveTarget,
  type ControlTarget,
} from '../control/control-client.js';

export type { ControlTarget };

/** A CLI failure: message for stderr plus the exit code. */
export interface CliFailure {
  readonly message: string;
  readonly exit: number;
}

/**
 * Resolves the control URL and reads the admin token file (flags, then env, then the control-url
 * file beside the token file; see control/control-client.ts). Exit codes: a missing or empty
 * token file is 3 (bad input file), a bad --url is 2, no control-url file is 4 (no warden).
 */
export function resolveControlTarget(flags: { url?: string; tokenFile?: string }, io: CliIo): ControlTarget | CliFailure {
  let target: ControlTarget;
  try {
    target = resolveTarget(flags, io.env, io.cwd);
  } catch (err) {
    if (err instanceof ControlTokenFileError) return { message: err.message, exit: EXIT.config };
    if (err instanceof ControlUnavailableError) return { message: err.message, exit: EXIT.unavailable };
    if (err instanceof ControlUrlError) return { message: err.message, exit: EXIT.usage };
    throw err;
  }
  return target;
}

export type ControlResult = { readonly kind: 'ok'; readonly status: number; readonly body: unknown } | ({ readonly kind: 'failed' } & CliFailure);

/**
 * One request to warden's control API with the admin bearer token, mapped to CLI exit codes.
 * Goes through the shared control client, so `unix:` socket URLs work here too.
 */
export async function controlRequest(target: ControlTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ControlResult> {
  let res: { status: number; body: unknown };
  try {
    res = await createControlClient(target).request(method, path, body);
  } catch (err) {
    return { kind: 'failed', message: (err as Error).message, exit: EXIT.unavailable };
  }
  if (res.status === 401 || res.status === 403) {
    return { kind: 'failed', message: `warden at ${target.url} refused the credential in ${target.tokenFile} (HTTP ${res.status}); is it the admin token of this warden?`, exit: EXIT.failure };
  }
  if (res.status >= 400) {
    const desc = (res.body as { description?: string } | undefined)?.description ?? JSON.stringify(res.body);
    return { kind: 'failed', message: `warden answered HTTP ${res.status}: ${desc}`, exit: EXIT.failure };
  }
  return { kind: 'ok', status: res.status, body: res.body };
}
