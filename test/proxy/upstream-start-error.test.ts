import { describe, expect, it } from 'vitest';
import { RPC } from '../../src/proxy/json-rpc.js';
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
});
