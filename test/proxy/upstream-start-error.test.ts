import { describe, expect, it } from 'vitest';
import { RPC } from '../../src/proxy/json-rpc.js';
import { rawAgent } from '../helpers/hostile-raw-agent.js';
import { exitSummary, initializeFailureSummary, lossSummary, spawnFailureSummary } from '../../src/proxy/upstream-start-error.js';

const initFailure = (code: number, message: string): string => initializeFailureSummary({ code, message }, RPC.requestTimeout, RPC.upstreamClosed, 20_000);

describe('what the agent is told about an upstream that did not start', () => {
  it('names a spawn failure by its errno code, never the command line', () => {
    expect(spawnFailureSummary(Object.assign(new Error('spawn /opt/x --key=sk-1 ENOENT'), { code: 'ENOENT' }))).toBe('command not found (ENOENT)');
    expect(spawnFailureSummary(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('permission denied (EACCES)');
    expect(spawnFailureSummary(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('could not be started (EWHATEVER)');
    expect(spawnFailureSummary(Object.assign(new Error('x'), { code: 'sk-secret value' }))).toBe('could not be started');
  });

  it('names an exit by its code or signal', () => {
    expect(exitSummary(3, null)).toBe('exited with code 3');
    expect(exitSummary(null, 'SIGKILL')).toBe('was killed by SIGKILL');
    expect(exitSummary(null, null)).toBeUndefined();
  });

  it('blocks a leak through the stderr tail: only warden\'s own words of a loss are kept', () => {
    expect(lossSummary('closed unexpectedly; its stderr ended with: API_KEY=sk-live-123 | exiting')).toBe('closed unexpectedly');
    expect(lossSummary('is unreachable (ECONNREFUSED)')).toBe('is unreachable (ECONNREFUSED)');
    expect(lossSummary('lost its session (HTTP 404)')).toBe('lost its session (HTTP 404)');
    expect(lossSummary('is unreachable (https://h/x?token=sk-1)')).toBe('was lost');
  });

  it('blocks a leak through an HTTP error body: only the status of a refused initialize is kept', () => {
    expect(initFailure(RPC.upstreamClosed, "upstream 'api' send failed: Error: Error POSTing to endpoint (HTTP 401): invalid key sk-live-123")).toBe('answered initialize with HTTP 401');
    expect(initFailure(RPC.upstreamClosed, "upstream 'api' send failed: Error: upstream process is not running")).toBe('initialize could not be sent');
    expect(initFailure(RPC.requestTimeout, "upstream 'api' timed out after 20000 ms")).toBe('did not answer initialize within 20000 ms');
    expect(initFailure(-32602, 'Unsupported protocol version; your token sk-live-123 is fine')).toBe('answered initialize with error -32602');
  });

  it('blocks a leak through the error code itself: an upstream\'s code that is no integer is not repeated', () => {
    // Answers are not checked for shape: a JSON-RPC error's code is whatever the upstream wrote.
    const code = (value: unknown): string => initializeFailureSummary({ code: value as number, message: 'x' }, RPC.requestTimeout, RPC.upstreamClosed, 20_000);
    expect(code('invalid_api_key sk-live-123')).toBe('answered initialize with an error');
    expect(code({ key: 'sk-live-123' })).toBe('answered initialize with an error');
    expect(code(1.5e300)).toBe('answered initialize with an error');
    expect(code(-32603)).toBe('answered initialize with error -32603');
    // A closed-code error whose message is not text is no HTTP status either.
    expect(initializeFailureSummary({ code: RPC.upstreamClosed, message: { toString: 1 } as unknown as string }, RPC.requestTimeout, RPC.upstreamClosed, 1)).toBe('initialize could not be sent');
  });
});

describe('an upstream whose initialize error code carries text', () => {
  it('is reported to the agent without it (a real process answering initialize with a string code)', async () => {
    const script = `process.stdin.on('data', (d) => { const m = JSON.parse(String(d).split('\\n')[0]); process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: 'invalid_api_key sk-live-123', message: 'no' } }) + '\\n'); });`;
    const a = await rawAgent({ upstreams: { api: { command: process.execPath, args: ['-e', script] } } });
    try {
      const answer = await a.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
      expect(answer.error).toMatchObject({ code: -32603, data: { reason: 'upstream_start_failed', upstream: 'api', detail: 'answered initialize with an error' } });
      expect(JSON.stringify(answer)).not.toContain('sk-live');
    } finally {
      await a.close();
    }
  });
});
