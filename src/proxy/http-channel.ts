import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamChannel } from './downstream-channel.js';
import type { RpcId, RpcMessage } from './json-rpc.js';

/**
 * One agent session over Streamable HTTP, on the SDK server transport. Warden validates Host,
 * Origin, size, batches and JSON itself before the transport sees a body (see http-listener.ts).
 */
export class HttpChannel implements DownstreamChannel {
  readonly transport = 'http' as const;
  readonly server: StreamableHTTPServerTransport;
  onmessage?: (message: RpcMessage) => void;
  onclose?: () => void;
  private closed = false;

  constructor(sessionId: string, onInitialized: (id: string) => void, onDeleted: (id: string) => void) {
    this.server = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessioninitialized: onInitialized,
      onsessionclosed: onDeleted,
    });
    this.server.onmessage = (message) => this.onmessage?.(message as RpcMessage);
    this.server.onclose = () => {
      this.closed = true;
      this.onclose?.();
    };
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  send(message: RpcMessage, relatedRequestId?: RpcId): void {
    if (this.closed) return;
    // The SDK serialises inside its async send; when that fails (an upstream answer nested beyond
    // JSON.stringify's stack, about 4,000 levels) it only reports the error and ends the request's
    // stream, so the agent would wait forever. Serialising here first makes such a message throw
    // synchronously, and ProxySession.toAgent answers -32603 for it instead, as on stdio.
    JSON.stringify(message);
    const options = relatedRequestId === undefined ? undefined : { relatedRequestId };
    this.server.send(message as JSONRPCMessage, options).catch(() => {
      // No open stream for this message (client went away): nothing to deliver it to.
    });
  }

  async close(_reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close();
  }
}
