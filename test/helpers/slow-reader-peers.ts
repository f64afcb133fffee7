import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** Upstream config entry for the flood fixture (notification floods, a child that stops reading). */
export const floodUpstream = () => ({ command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/flood-server.mjs')] });

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

export interface UnreadStream {
  readonly status: number;
  readonly contentType: string | undefined;
  /** Starts reading at last; resolves once the stream has ended, cleanly or broken. */
  readAndWaitForEnd(): Promise<void>;
}

/**
 * An agent that opens an event stream and never reads it: sends the request, waits for the
 * response head, then pauses the response so the socket is not read (the kernel buffers fill and
 * everything further waits in warden). `body` makes it a POST, otherwise it is the GET stream.
 */
export function openUnreadStream(url: string, headers: Record<string, string>, body?: string): Promise<UnreadStream> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: body === undefined ? 'GET' : 'POST',
        headers: { host: target.host, accept: body === undefined ? 'text/event-stream' : 'application/json, text/event-stream', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        res.pause();
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], readAndWaitForEnd: () => endOf(res) });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function endOf(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.complete) return resolve();
    res.once('close', () => resolve());
    // Discard the backlog; a broken stream ends in 'aborted'/'error' and then 'close'.
    res.on('data', () => undefined);
    res.on('error', () => undefined);
    res.resume();
  });
}

/** Warden's pino lines (stderr) as records; a line that is not JSON (a start-up message) is skipped. */
export function logRecords(lines: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lines) {
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log record
    }
  }
  return out;
}
