import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { resolve } from 'node:path';
import { WardenError } from '../core/errors.js';
import { DEFAULT_ADMIN_TOKEN_FILE } from './control-config.js';
import { controlUrlFileFor, readAdvertisedControlUrl } from './control-url-file.js';

/** The control API could not be reached, or answered something that is not JSON. */
export class ControlUnavailableError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('control_unavailable', message, options);
  }
}

/** The control API answered the stream with an error status (bad token, forbidden). */
export class ControlRefusedError extends ControlUnavailableError {
  readonly status: number;
  constructor(status: number) {
    super(`control API refused the request: HTTP ${status}`);
    this.status = status;
  }
}

export interface ControlClient {
  request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Reads server-sent events until the stream ends or `signal` aborts. */
  stream(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal, onOpen?: () => void): Promise<void>;
}

/** The admin/approver token file is missing, unreadable or empty (CLI exit 3, like any bad input file). */
export class ControlTokenFileError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('control_token_file', message, options);
  }
}

/**
 * The URL given by `--url` or `$WARDEN_CONTROL_URL` is not one (CLI exit 2, a bad command line).
 * Checked before anything is sent, so every control CLI answers it the same way.
 */
export class ControlUrlError extends WardenError {
  constructor(message: string) {
    super('control_url_invalid', message);
  }
}

/** Where the CLI connects, and where that URL came from (for a clear message when nobody answers). */
export interface ControlTarget {
  readonly url: string;
  readonly token: string;
  readonly tokenFile: string;
  readonly urlSource: 'flag' | 'env' | 'file';
  /** The control-url file the URL was read from (`urlSource: 'file'`). */
  readonly urlFile?: string;
}

/**
 * Where to connect: `--url`, else `$WARDEN_CONTROL_URL`, else the URL a running warden wrote to
 * `control-url` in the folder of the token file (`--token-file`, else `$WARDEN_ADMIN_TOKEN_FILE`,
 * else `.warden/admin-token`, relative to `cwd`). Warden writes that file beside its
 * `control.adminTokenFile`, so pointing `--token-file` at a warden's token file also finds that
 * warden. No file there and no URL given: ControlUnavailableError naming the file looked for.
 */
export function resolveControlTarget(
  flags: { url?: string | undefined; tokenFile?: string | undefined },
  env: NodeJS.ProcessEnv,
  cwd: string,
): ControlTarget {
  const tokenFile = resolve(cwd, flags.tokenFile ?? env.WARDEN_ADMIN_TOKEN_FILE ?? DEFAULT_ADMIN_TOKEN_FILE);
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new ControlTokenFileError(`cannot read token file ${tokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}); give --token-file or set WARDEN_ADMIN_TOKEN_FILE`, { cause: err });
  }
  if (token === '') throw new ControlTokenFileError(`token file ${tokenFile} is empty`);
  const given = flags.url ?? env.WARDEN_CONTROL_URL;
  if (given !== undefined) {
    if (!given.startsWith('unix:') && !URL.canParse(given)) {
      throw new ControlUrlError(`${flags.url !== undefined ? '--url' : '$WARDEN_CONTROL_URL'}: not a URL: ${given}`);
    }
    return { url: given.replace(/\/+$/, ''), token, tokenFile, urlSource: flags.url !== undefined ? 'flag' : 'env' };
  }
  const urlFile = controlUrlFileFor(tokenFile);
  const { url: advertised, problem } = readAdvertisedControlUrl(tokenFile);
  if (advertised === undefined && problem === undefined) {
    throw new ControlUnavailableError(
      `no control URL: ${urlFile} does not exist, so no warden using ${tokenFile} as its control.adminTokenFile is running (warden writes that file when it starts and removes it when it stops); start warden, or pass --url`,
    );
  }
  if (problem !== undefined || advertised === undefined) {
    // Fail closed: the admin credential goes to whatever URL this file names, so a file someone
    // else could have written must not decide where it is sent.
    throw new ControlUnavailableError(
      `${urlFile} ${problem}: not sending the admin credential to the URL it names (warden writes it as a regular file, mode 0600, owned by the user it runs as, and serves it as that user); delete it and restart warden, or pass --url`,
    );
  }
  return { url: advertised.replace(/\/+$/, ''), token, tokenFile, urlSource: 'file', urlFile };
}

/** Why a connection failed, in the user's terms: a URL from a control-url file that nobody answers is a stale file. */
function unreachableMessage(target: { url: string; urlSource?: ControlTarget['urlSource']; urlFile?: string | undefined }, err: Error, silent = false): string {
  const base = `cannot reach warden's control API at ${target.url} (${err.message})`;
  if (target.urlSource === 'file' && target.urlFile !== undefined) {
    // A listener that takes the connection but never answers is a hung (or stopped) warden, or a
    // program that took over the port of a stale file: both are worth naming.
    const why = silent
      ? 'but nothing there answers (a warden that is stopped or hung, or a stale file whose port another program now holds; delete the file if its warden is gone, or pass --url)'
      : 'but the warden that wrote it is not running (a stale file left by a warden that was killed; delete it, start warden, or pass --url)';
    return `${base}: ${target.urlFile} names this URL, ${why}`;
  }
  return base;
}

function baseOptions(url: string): RequestOptions {
  if (url.startsWith('unix:')) return { socketPath: url.slice('unix:'.length), host: 'localhost' };
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new ControlUnavailableError(`control URL must be http:// or unix: (${url})`);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || 80 };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function parseSse(buffer: string, emit: (event: string, data: unknown) => void): string {
  let rest = buffer;
  let cut: number;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) continue; // comments and heartbeats
    try {
      emit(event, JSON.parse(data.join('\n')) as unknown);
    } catch {
      // a malformed event is skipped, not fatal
    }
  }
  return rest;
}

/**
 * How long the CLIs wait for warden's control API to answer a request (for the approval stream:
 * to open it). Warden answers in milliseconds; a listener that accepts the connection and never
 * answers (a stopped or hung warden, or another program on a stale control-url's port) left
 * `warden sessions`, `revoke` and `approvals` waiting forever without a word.
 */
export const CONTROL_ANSWER_TIMEOUT_MS = 10_000;

/**
 * How long the approval stream may stay silent before the CLI takes it for lost: three of the
 * control server's 15 s heartbeats.
 */
export const CONTROL_STREAM_IDLE_MS = 45_000;

/** Client options; the defaults are CONTROL_ANSWER_TIMEOUT_MS and CONTROL_STREAM_IDLE_MS. */
export interface ControlClientOptions {
  readonly answerTimeoutMs?: number;
  readonly streamIdleMs?: number;
}

/** A small client for the control API (used by `warden approve` and `warden approvals`). */
export function createControlClient(
  target: { url: string; token: string; urlSource?: ControlTarget['urlSource']; urlFile?: string | undefined },
  options: ControlClientOptions = {},
): ControlClient {
  const base = baseOptions(target.url);
  const headers = { authorization: `Bearer ${target.token}`, accept: 'application/json' };
  const timeoutMs = options.answerTimeoutMs ?? CONTROL_ANSWER_TIMEOUT_MS;
  const streamIdleMs = options.streamIdleMs ?? CONTROL_STREAM_IDLE_MS;
  const noAnswer = (): ControlUnavailableError =>
    new ControlUnavailableError(unreachableMessage(target, new Error(`no answer within ${formatSeconds(timeoutMs)}`), true));
  /** Resolves with the response once its headers arrived; fails when none came within the bound. */
  const send = (method: string, path: string, body: unknown, signal?: AbortSignal): Promise<IncomingMessage> =>
    new Promise((ok, fail) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        { ...base, method, path, signal, headers: { ...headers, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) } },
        (res) => {
          clearTimeout(timer);
          ok(res);
        },
      );
      const timer = setTimeout(() => {
        fail(noAnswer());
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        fail(new ControlUnavailableError(unreachableMessage(target, err), { cause: err }));
      });
      req.end(text);
    });
  return {
    async request(method, path, body) {
      const started = Date.now();
      const res = await send(method, path, body);
      // The whole answer within the same bound: headers followed by a body that never ends would
      // hang the command just the same.
      const timer = setTimeout(() => res.destroy(noAnswer()), Math.max(0, timeoutMs - (Date.now() - started)));
      // Decoded across chunk boundaries: a multi-byte character cut in two by the network must not
      // reach the approver as U+FFFD (what they read must be what the upstream would get).
      res.setEncoding('utf8');
      let raw = '';
      try {
        for await (const chunk of res) raw += chunk as string;
      } catch (err) {
        throw err instanceof ControlUnavailableError ? err : new ControlUnavailableError(unreachableMessage(target, err as Error), { cause: err });
      } finally {
        clearTimeout(timer);
      }
      try {
        return { status: res.statusCode ?? 0, body: JSON.parse(raw) as unknown };
      } catch (err) {
        throw new ControlUnavailableError(`control API answered non-JSON (HTTP ${res.statusCode})`, { cause: err });
      }
    },
    async stream(path, onEvent, signal, onOpen) {
      const res = await send('GET', path, undefined, signal);
      if (res.statusCode !== 200) {
        res.resume();
        throw new ControlRefusedError(res.statusCode ?? 0);
      }
      onOpen?.();
      res.setEncoding('utf8');
      // Warden writes a heartbeat every 15 s. A stream silent for much longer is dead (warden
      // stopped or hung, the connection lost without a FIN): ended here, so the approver sees
      // "lost the control API stream" and a reconnect instead of an empty queue that never fills.
      let idle: NodeJS.Timeout | undefined;
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => res.destroy(new Error(`no data, not even a heartbeat, for ${formatSeconds(streamIdleMs)}`)), streamIdleMs);
      };
      armIdle();
      let buffer = '';
      try {
        for await (const chunk of res) {
          armIdle();
          buffer = parseSse(buffer + String(chunk), onEvent);
        }
      } catch (err) {
        if (!signal.aborted) throw new ControlUnavailableError(`control API stream broke (${(err as Error).message})`, { cause: err });
      } finally {
        clearTimeout(idle);
      }
    },
  };
}
