import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { DEFAULT_ADMIN_TOKEN_FILE } from '../control/control-config.js';
import { createControlClient } from '../control/control-client.js';
import { advertisedControlUrl } from '../control/control-url-file.js';

export interface ControlTarget {
  readonly url: string;
  readonly token: string;
}

/** A CLI failure: message for stderr plus the exit code. */
export interface CliFailure {
  readonly message: string;
  readonly exit: number;
}

/** Resolves the control URL and reads the admin token file (flags, then env, then defaults). */
export function resolveControlTarget(flags: { url?: string; tokenFile?: string }, io: CliIo): ControlTarget | CliFailure {
  const file = flags.tokenFile ?? io.env.WARDEN_ADMIN_TOKEN_FILE ?? DEFAULT_ADMIN_TOKEN_FILE;
  const path = isAbsolute(file) ? file : join(io.cwd, file);
  const url = flags.url ?? io.env.WARDEN_CONTROL_URL ?? advertisedControlUrl(path);
  if (!url.startsWith('unix:') && !URL.canParse(url)) return { message: `--url: not a URL: ${url}`, exit: EXIT.usage };
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    return { message: `${path}: cannot read admin token file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, exit: EXIT.config };
  }
  if (!token) return { message: `${path}: admin token file is empty`, exit: EXIT.config };
  return { url: url.replace(/\/+$/, ''), token };
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
    return { kind: 'failed', message: `cannot reach warden at ${target.url} (${(err as Error).message})`, exit: EXIT.unavailable };
  }
  if (res.status === 401 || res.status === 403) {
    return { kind: 'failed', message: `warden refused the admin credential (HTTP ${res.status})`, exit: EXIT.failure };
  }
  if (res.status >= 400) {
    const desc = (res.body as { description?: string } | undefined)?.description ?? JSON.stringify(res.body);
    return { kind: 'failed', message: `warden answered HTTP ${res.status}: ${desc}`, exit: EXIT.failure };
  }
  return { kind: 'ok', status: res.status, body: res.body };
}
