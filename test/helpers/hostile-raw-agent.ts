import { join } from 'node:path';
import { startRawStdioWarden } from './in-process-warden.js';
import type { InProcessOptions } from './in-process-warden.js';
import { REPO_ROOT } from './paths.js';

/** Upstream config entry for the hostile fixture server (raw lines chosen by the test). */
export const hostileUpstream = (env: Record<string, string> = {}) => ({
  command: process.execPath,
  args: [join(REPO_ROOT, 'test/fixtures/proxy/hostile-upstream-server.mjs')],
  env,
});

type Message = Record<string, unknown>;

/**
 * How long a hostile input may take to be answered: anything slower counts as a hang. Generous,
 * because a hang never answers at all, while a 3 MB argument on a loaded 2-core CI machine can
 * take seconds.
 */
export const ANSWER_MS = 10_000;

/**
 * An agent that writes raw lines to an in-process stdio warden. Every request it sends must get
 * exactly one answer (a result or an error) within ANSWER_MS, and `ping` proves warden still serves.
 */
export async function rawAgent(config: Record<string, unknown> = {}, options: InProcessOptions = {}) {
  const w = await startRawStdioWarden(config, options);
  let next = 0;
  const answersFor = (id: unknown): Message[] => (w.lines as Message[]).filter((m) => m.id === id && !('method' in m));
  /** Waits for the one answer to `id`; a hang fails with a short message (lines can be megabytes). */
  const answerTo = async (id: unknown, waitMs = ANSWER_MS): Promise<Message> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const found = answersFor(id)[0];
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no answer to ${JSON.stringify(id)} within ${waitMs} ms (${w.lines.length} lines received)`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  /** Sends a raw line that carries `id` and returns its one answer (fails on a hang). */
  const exchange = async (line: string, id: string | number, waitMs?: number): Promise<Message> => {
    w.send(`${line}\n`);
    return answerTo(id, waitMs);
  };
  /** `waitMs`: for a request that does real work first (listing a huge upstream), not a hang check. */
  const request = (method: string, params?: unknown, waitMs?: number): Promise<Message> => {
    const id = `r${++next}`;
    return exchange(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }), id, waitMs);
  };
  const agent = {
    ...w,
    exchange,
    request,
    answersFor,
    /** Sends a line that carries no request id (a notification, a response, junk). */
    fire: (line: string): void => void w.send(`${line}\n`),
    /** Warden answers ping itself: it is alive and reading this session. */
    alive: async (): Promise<boolean> => 'result' in (await request('ping')),
    init: async (): Promise<Message> => {
      const answer = await request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile-agent', version: '1' } });
      w.send('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      return answer;
    },
  };
  return agent;
}

/** A JSON text nested `depth` levels deep (valid JSON, beyond any recursive serialiser's stack). */
export const deepJson = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
