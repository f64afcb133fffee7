/**
 * Loose JSON-RPC 2.0 message shapes. The proxy forwards messages it does not inspect untouched,
 * so these types only name the fields routing needs.
 */
export type RpcId = string | number;

export interface RpcRequest {
  jsonrpc: '2.0';
  id: RpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: RpcId;
  result?: Record<string, unknown>;
  error?: RpcErrorObject;
}

export type RpcMessage = RpcRequest | RpcNotification | RpcResponse;

/** JSON-RPC and MCP error codes warden produces itself. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** SDK ErrorCode.ConnectionClosed: the upstream went away (crash, restart). */
  upstreamClosed: -32000,
  /** SDK ErrorCode.RequestTimeout: the upstream did not answer within the configured time. */
  requestTimeout: -32001,
  /** Streamable HTTP: unknown or ended Mcp-Session-Id (answered with HTTP 404). */
  sessionNotFound: -32001,
  /** MCP: resource not found. */
  resourceNotFound: -32002,
} as const;

export function isRequest(m: RpcMessage): m is RpcRequest {
  return 'method' in m && 'id' in m && m.id !== undefined && m.id !== null;
}

export function isNotification(m: RpcMessage): m is RpcNotification {
  return 'method' in m && !('id' in m && m.id !== undefined && m.id !== null);
}

export function isResponse(m: RpcMessage): m is RpcResponse {
  return !('method' in m) && 'id' in m;
}

export function errorResponse(id: RpcId | null, code: number, message: string, data?: unknown): RpcMessage {
  const error: RpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id: id as RpcId, error };
}

export function resultResponse(id: RpcId, result: Record<string, unknown>): RpcResponse {
  return { jsonrpc: '2.0', id, result };
}

/**
 * Structural check for one JSON-RPC message. Arrays (batches, removed in MCP 2025-06-18) and
 * anything without `jsonrpc: "2.0"` are invalid requests (-32600), never forwarded.
 */
export function validateMessage(value: unknown): { ok: true; message: RpcMessage } | { ok: false; id: RpcId | null; reason: string } {
  if (Array.isArray(value)) return { ok: false, id: null, reason: 'JSON-RPC batches are not supported' };
  if (typeof value !== 'object' || value === null) return { ok: false, id: null, reason: 'message must be an object' };
  const v = value as Record<string, unknown>;
  const id = typeof v.id === 'string' || typeof v.id === 'number' ? v.id : null;
  if (v.jsonrpc !== '2.0') return { ok: false, id, reason: 'jsonrpc must be "2.0"' };
  if ('id' in v && v.id !== undefined && id === null) return { ok: false, id: null, reason: 'id must be a string or number' };
  if ('method' in v) {
    if (typeof v.method !== 'string') return { ok: false, id, reason: 'method must be a string' };
    if ('params' in v && v.params !== undefined && (typeof v.params !== 'object' || v.params === null || Array.isArray(v.params))) {
      return { ok: false, id, reason: 'params must be an object' };
    }
    return { ok: true, message: v as unknown as RpcMessage };
  }
  if (id === null) return { ok: false, id: null, reason: 'response without id' };
  if (!('result' in v) && !('error' in v)) return { ok: false, id, reason: 'response without result or error' };
  return { ok: true, message: v as unknown as RpcMessage };
}
