import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { isSessionNotFound } from '../../src/proxy/http-upstream-loss.js';

const withSession = { sessionId: 'session-1' } as unknown as Transport;
const withoutSession = {} as unknown as Transport;
const posted = (status: number, body: unknown) => new StreamableHTTPError(status, `Error POSTing to endpoint: ${JSON.stringify(body)}`);
const notInitialized = { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: Server not initialized' }, id: null };

describe('isSessionNotFound', () => {
  it('takes 404 on a request with a session as a lost session', () => {
    expect(isSessionNotFound(withSession, posted(404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }))).toBe(true);
  });

  it('takes the 400 "Server not initialized" of a restarted single-transport SDK server as one', () => {
    expect(isSessionNotFound(withSession, posted(400, notInitialized))).toBe(true);
  });

  it('does not drop the session for a 400 that merely echoes the words (input reflected by a server)', () => {
    const echoed = { jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params: "Bad Request: Server not initialized"' }, id: 3 };
    expect(isSessionNotFound(withSession, posted(400, echoed))).toBe(false);
    expect(isSessionNotFound(withSession, new StreamableHTTPError(400, 'Error POSTing to endpoint: Bad Request: Server not initialized'))).toBe(false);
  });

  it('never while no session is held (a 404 or 400 on initialize is a wrong URL or a broken server, not a loss)', () => {
    expect(isSessionNotFound(withoutSession, posted(404, {}))).toBe(false);
    expect(isSessionNotFound(withoutSession, posted(400, notInitialized))).toBe(false);
  });

  it('ignores other errors', () => {
    expect(isSessionNotFound(withSession, new Error('Bad Request: Server not initialized'))).toBe(false);
    expect(isSessionNotFound(withSession, posted(500, notInitialized))).toBe(false);
  });
});
