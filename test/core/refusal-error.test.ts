import { describe, expect, it } from 'vitest';
import { blockedToolResult, DECISION_META_KEY } from '../../src/core/decision-meta.js';
import { REFUSED_CODE, refusalAsRpcError } from '../../src/core/refusal-error.js';
import { buildBlockResult } from '../../src/enforce/block-result.js';
import { judgedRefusal } from '../../src/proxy/judged-refusal.js';
import { decision } from '../fixtures/enforce/call-fixtures.js';

describe('a refusal of a request that cannot carry a tool result (resources/read)', () => {
  it('becomes JSON-RPC error -32010 with the refusal text as message and the same decision as data', () => {
    const result = buildBlockResult({ callId: 'c-1', reason: 'approval_denied', decision: decision(), approvalId: 'apr_1', approver: 'carol', note: 'no' });
    const error = refusalAsRpcError(result);
    expect(error.code).toBe(REFUSED_CODE);
    expect(error.code).toBe(-32010);
    expect(error.message).toBe((result.content as { text: string }[])[0]!.text);
    expect(error.data).toEqual((result._meta as Record<string, unknown>)[DECISION_META_KEY]);
    expect(error.data).toMatchObject({ action: 'approve', reason: 'approval_denied', callId: 'c-1', approvalId: 'apr_1', approver: 'carol', rules: ['approve-writes'] });
  });

  it('says what was refused: a resources/read request, not a tool call', () => {
    const read = refusalAsRpcError(buildBlockResult({ callId: 'c-4', reason: 'policy_block', decision: decision({ enforced: 'block' }), request: 'resources/read' }));
    expect(read.message).toMatch(/^mcp-warden blocked this resources\/read request by policy\./);
    expect(buildBlockResult({ callId: 'c-5', reason: 'policy_block' }).content).toEqual([{ type: 'text', text: expect.stringMatching(/^mcp-warden blocked this tool call by policy\./) }]);
  });

  it('keeps retryAfterMs of a throttle rejection, so the agent knows when to read again', () => {
    const error = refusalAsRpcError(buildBlockResult({ callId: 'c-2', reason: 'throttle_rejected', decision: decision({ enforced: 'throttle' }), retryAfterMs: 1500 }));
    expect(error.data).toMatchObject({ action: 'throttle', reason: 'throttle_rejected', retryAfterMs: 1500 });
  });

  it('still refuses a result warden did not shape (a custom guard): its text, no data; a fixed text when it has none', () => {
    expect(refusalAsRpcError({ content: [{ type: 'text', text: 'nope' }, { type: 'image', data: 'x' }, { type: 'text', text: 'really' }], isError: true })).toEqual({ code: -32010, message: 'nope\nreally' });
    expect(refusalAsRpcError({ isError: true, _meta: { other: 1 } })).toEqual({ code: -32010, message: 'Refused by mcp-warden.' });
    expect(refusalAsRpcError({ content: 'not a list', _meta: [] })).toEqual({ code: -32010, message: 'Refused by mcp-warden.' });
  });

  it('a tool call keeps its CallToolResult; a read gets the error, under the request id', () => {
    const result = blockedToolResult('internal', 'c-3', 'Blocked by mcp-warden: internal error while judging this call');
    expect(judgedRefusal(7, 'tools/call', result)).toEqual({ jsonrpc: '2.0', id: 7, result });
    expect(judgedRefusal(7, 'resources/read', result)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32010, message: 'Blocked by mcp-warden: internal error while judging this call', data: { action: 'block', reason: 'internal', callId: 'c-3' } },
    });
  });
});
