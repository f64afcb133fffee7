import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import type { DecisionMeta } from '../../src/enforce/block-result.js';

/** The `_meta` key warden puts its decision under on results it produced itself. */
export const DECISION_KEY = 'dev.mcp-warden/decision';

/** The decision warden attached to a refusal (undefined on an upstream's own result). */
export function decisionOf(result: unknown): DecisionMeta | undefined {
  const meta = (result as CallToolResult)._meta as Record<string, unknown> | undefined;
  return meta?.[DECISION_KEY] as DecisionMeta | undefined;
}

/**
 * Asserts a refusal: a tool result (not a JSON-RPC error) with `isError: true`, a readable text,
 * and the decision with this reason code and a call id under `_meta`. Returns the decision.
 */
export function expectRefusal(result: unknown, reason: DecisionMeta['reason']): DecisionMeta {
  const r = result as CallToolResult;
  expect(r.isError).toBe(true);
  expect(r.content[0]).toMatchObject({ type: 'text', text: expect.any(String) });
  const decision = decisionOf(r);
  expect(decision).toMatchObject({ reason, callId: expect.stringMatching(/\S/) });
  expect((r.content[0] as { text: string }).text).toContain(decision!.callId);
  return decision!;
}

/** Asserts the upstream's own successful result came back (nothing from warden in `_meta`). */
export function expectUpstreamText(result: unknown, text: string): void {
  const r = result as CallToolResult;
  expect(r.isError ?? false).toBe(false);
  expect(decisionOf(r)).toBeUndefined();
  expect(r.content).toEqual([{ type: 'text', text }]);
}
