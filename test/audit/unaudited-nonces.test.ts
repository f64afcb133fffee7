import { describe, expect, it } from 'vitest';
import { unauditedNonces } from '../../bench/fixtures/kill-under-load.js';

// The rule the SIGKILL test and the soak prove: every call the upstream received has its
// call.decision and call.forwarded records, found through the nonce in call.received.
const written = (callId: string, nonce: string, steps: string[]) => [
  { type: 'call.received', callId, args: { message: nonce } },
  ...steps.map((type) => ({ type, callId })),
];

describe('unauditedNonces (the write-ahead check of the kill loop and the soak)', () => {
  it('passes a call whose decision and forward were written before the upstream got it', () => {
    expect(unauditedNonces(written('c1', 'n1', ['call.risk', 'call.decision', 'call.forwarded']), [{ arguments: { message: 'n1' } }])).toEqual([]);
  });

  it('reports a call the upstream ran with no record at all, or without its decision or its forward', () => {
    const records = [...written('c2', 'n2', ['call.decision']), ...written('c3', 'n3', ['call.forwarded'])];
    const calls = [{ arguments: { message: 'n2' } }, { arguments: { message: 'n3' } }, { arguments: { message: 'n4' } }];
    expect(unauditedNonces(records, calls)).toEqual(['n2', 'n3', 'n4']);
  });
});
