import type { RpcId, RpcMessage } from './json-rpc.js';

/**
 * The agent-facing end of one MCP session. Stdio and Streamable HTTP implement it, so the
 * session router never knows which transport it serves.
 */
export interface DownstreamChannel {
  readonly transport: 'stdio' | 'http';
  /** Deliver one message to the agent; `relatedRequestId` keeps HTTP notifications on their request's stream. */
  send(message: RpcMessage, relatedRequestId?: RpcId): void;
  /**
   * HTTP only: true (once) when the agent closed the stream that would carry request `id`'s answer
   * before the session took the request up; the request must then be treated as cancelled.
   */
  abandoned?(id: RpcId): boolean;
  /** End the session from warden's side. */
  close(reason: string): Promise<void>;
  onmessage?: (message: RpcMessage) => void;
  /** The session's transport ended; `reason` when the channel itself ended it (e.g. `output_overflow`). */
  onclose?: (reason?: string) => void;
}
