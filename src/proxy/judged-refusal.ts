import { refusalAsRpcError } from '../core/refusal-error.js';
import type { JudgedAction } from '../core/tool-call.js';
import { errorResponse, type RpcId, type RpcMessage } from './json-rpc.js';

/**
 * Warden's answer when it does not forward a judged request: a tool call gets the refusal as its
 * `CallToolResult` (the model reads it and changes course); any other request cannot carry a tool
 * result and gets the same text and decision as a JSON-RPC error (refusal-error.ts).
 */
export function judgedRefusal(id: RpcId, action: JudgedAction, result: Record<string, unknown>): RpcMessage {
  if (action === 'tools/call') return { jsonrpc: '2.0', id, result };
  const error = refusalAsRpcError(result);
  return errorResponse(id, error.code, error.message, error.data);
}
