import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import type { DecisionMeta } from '../../src/enforce/block-result.js';

/** What warden put under `_meta["dev.mcp-warden/decision"]` when it answered a call itself. */
export type RefusalMeta = DecisionMeta;

/** One call as the agent saw it. */
export type CallOutcome =
  | { readonly kind: 'result'; readonly text: string; readonly ms: number }
  | { readonly kind: 'refused'; readonly text: string; readonly meta: RefusalMeta | undefined; readonly ms: number }
  | { readonly kind: 'error'; readonly code: number | undefined; readonly text: string; readonly ms: number };

/**
 * The scripted agent's one move: call a tool and classify what came back. A tool result with
 * `isError` and warden's decision meta is a refusal; a JSON-RPC error is an error.
 */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const started = Date.now();
  try {
    // A call waiting for a human can take a while: allow longer than the SDK's default 60 s.
    const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
    const ms = Date.now() - started;
    const first = (result.content as Array<{ type: string; text?: string }> | undefined)?.[0];
    const text = first?.type === 'text' ? (first.text ?? '') : `${(result.content as unknown[] | undefined)?.length ?? 0} content items`;
    if (!result.isError) return { kind: 'result', text, ms };
    const meta = (result._meta as Record<string, unknown> | undefined)?.[DECISION_META_KEY] as RefusalMeta | undefined;
    return { kind: 'refused', text, meta, ms };
  } catch (err) {
    // The SDK's McpError puts "MCP error <code>: " before the server's message; the code is shown anyway.
    const text = (err as Error).message.replace(/^MCP error -?\d+: /, '');
    return { kind: 'error', code: (err as { code?: number }).code, text, ms: Date.now() - started };
  }
}

/** A one-line description of an outcome. */
export function describeOutcome(o: CallOutcome): string {
  const short = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/\n/g, ' ');
  switch (o.kind) {
    case 'result':
      return `forwarded, tool answered "${short(o.text)}" (${o.ms} ms)`;
    case 'refused': {
      const m = o.meta;
      const retry = m?.retryAfterMs !== undefined ? `, retry after ${m.retryAfterMs} ms` : '';
      return `refused by warden: ${m?.reason ?? 'no decision meta'}${retry} (${o.ms} ms)`;
    }
    case 'error':
      return `JSON-RPC error ${o.code ?? '?'}: ${short(o.text)}`;
    default: {
      const never: never = o;
      return String(never);
    }
  }
}
