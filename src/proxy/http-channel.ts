import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../logging/logger.js';
import type { DownstreamChannel } from './downstream-channel.js';
import { isRequest, type RpcId, type RpcMessage } from './json-rpc.js';
import { AbandonedCalls, type AbandonHandler } from './http-abandoned-calls.js';
import { sendRpcError } from './http-guards.js';
import { sendWebResponse, toWebRequest } from './node-web-bridge.js';
import { OutputBound, type OutputOverflow } from './output-bound.js';
import { StreamBacklog } from './stream-backlog.js';

export interface HttpChannelOptions {
  readonly sessionId: string;
  /** limits.maxBufferedOutputBytes: what this session's event streams may hold unread. */
  readonly maxBufferedOutputBytes: number;
  readonly logger: Logger;
  /** The agent ended the session (HTTP DELETE). */
  readonly onDeleted: () => void;
  /** The agent closed the stream of an unanswered request (see http-abandoned-calls.ts). */
  readonly onAbandoned: AbandonHandler;
}

/**
 * One agent session over Streamable HTTP, on the SDK's web-standard server transport. Warden
 * validates Host, Origin, size, batches and JSON itself before the transport sees a body (see
 * http-listener.ts), and bounds what the session's event streams hold unread (see node-web-bridge.ts).
 */
export class HttpChannel implements DownstreamChannel {
  readonly transport = 'http' as const;
  onmessage?: (message: RpcMessage) => void;
  onclose?: (reason?: string) => void;
  private readonly server: WebStandardStreamableHTTPServerTransport;
  private readonly backlog = new StreamBacklog();
  private readonly bound: OutputBound;
  private readonly abandonedCalls: AbandonedCalls;
  private closed = false;

  constructor(private readonly opts: HttpChannelOptions) {
    this.server = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => opts.sessionId,
      onsessionclosed: () => opts.onDeleted(),
    });
    this.bound = new OutputBound(opts.maxBufferedOutputBytes, this.onOverflow);
    this.abandonedCalls = new AbandonedCalls(opts.onAbandoned);
    this.server.onmessage = (message) => this.onmessage?.(message as RpcMessage);
    this.server.onclose = () => {
      this.closed = true;
      this.onclose?.();
    };
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  /**
   * Serves one HTTP request of this session; `parsedBody` is the POST body warden already parsed.
   * `handedOver` runs once the transport has passed the body's message to the session (or refused
   * it), before the answer is streamed.
   */
  async handleRequest(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown, handedOver?: () => void): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'DELETE') {
      // The SDK's own answer to other methods; answered here because a web Request cannot even
      // carry some of them (TRACE), which would otherwise end as a 500.
      return sendRpcError(res, 405, -32000, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    }
    const id = requestIdOf(parsedBody);
    if (id !== undefined) this.abandonedCalls.watch(id, res);
    let response: Response;
    try {
      response = await this.server.handleRequest(toWebRequest(req), parsedBody === undefined ? undefined : { parsedBody });
    } finally {
      handedOver?.();
    }
    await sendWebResponse(response, res, this.wrote);
  }

  send(message: RpcMessage, relatedRequestId?: RpcId): void {
    if (this.closed || this.bound.overflowed) return;
    // The SDK serialises inside its async send; when that fails (an upstream answer nested beyond
    // JSON.stringify's stack, about 4,000 levels) it only reports the error and ends the request's
    // stream, so the agent would wait forever. Serialising here first makes such a message throw
    // synchronously, and ProxySession.toAgent answers -32603 for it instead, as on stdio.
    JSON.stringify(message);
    if ('id' in message && !('method' in message)) this.abandonedCalls.answered(message.id as RpcId);
    const options = relatedRequestId === undefined ? undefined : { relatedRequestId };
    this.server.send(message as JSONRPCMessage, options).catch(() => {
      // No open stream for this message (client went away): nothing to deliver it to.
    });
  }

  /** True once when the agent closed request `id`'s stream before the session held the request. */
  abandoned(id: RpcId): boolean {
    return this.abandonedCalls.take(id);
  }

  async close(_reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close();
  }

  /** After each event written to one of the session's streams: is the session over its bound? */
  private readonly wrote = (res: ServerResponse, bytes: number): void => {
    this.bound.afterWrite(bytes, this.backlog.update(res), () => this.backlog.exact());
  };

  /**
   * The agent holds more unread output than the bound allows (a stream it never reads while the
   * upstream keeps sending): fail closed for this session only. Its streams are destroyed at once
   * (their unread bytes freed; the agent sees them break), then the session closes the usual way,
   * reason `output_overflow`: in-flight calls are cancelled, upstreams stopped, the close audited.
   */
  private readonly onOverflow = ({ bufferedBytes, limitBytes }: OutputOverflow): void => {
    this.opts.logger.warn({ sessionId: this.opts.sessionId, bufferedBytes, limitBytes }, 'agent is not reading its event stream; closing the session');
    this.backlog.destroyAll();
    this.onclose?.('output_overflow');
  };
}

/** The id of a POSTed request (not a notification or a response), if it is one. */
function requestIdOf(body: unknown): RpcId | undefined {
  if (typeof body !== 'object' || body === null || !isRequest(body as RpcMessage)) return undefined;
  return (body as { id: RpcId }).id;
}
