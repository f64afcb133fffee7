import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeIfUnread } from './http-guards.js';

/**
 * Node http ↔ web Request/Response for the SDK's web-standard Streamable HTTP transport. Warden
 * does this itself instead of going through the SDK's Node wrapper (@hono/node-server) because of
 * where an unread event stream piles up: the adapter honours back-pressure, so events the agent
 * never reads wait in the SDK's ReadableStream queue, which counts chunks and cannot be measured
 * in bytes. Here every event is moved into the Node response at once, so what the agent has not
 * read is the response's `writableLength`, which the session's output bound checks on each write.
 */

/**
 * The request as the SDK transport needs it: method, URL and headers. No body: warden has read,
 * bounded and parsed it already (see http-listener.ts) and passes the parsed message on.
 */
export function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  // Only the path matters to the transport; the Host header was checked before this point.
  return new Request(new URL(req.url ?? '/', 'http://localhost'), { method: req.method ?? 'GET', headers });
}

/** Told after each chunk of an event stream was handed to the Node response. */
export type StreamWriteListener = (res: ServerResponse, bytes: number) => void;

/**
 * Writes the SDK's answer to the Node response. An event stream (`text/event-stream`) is copied
 * as it comes, each event written at once and reported to `onWrite`; anything else is one body.
 * Resolves when the answer is complete or the response closed (the client went away, or warden
 * destroyed it).
 */
export async function sendWebResponse(response: Response, res: ServerResponse, onWrite: StreamWriteListener): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  // The SDK answers GET and DELETE without reading a body (one sent anyway must not be read on).
  closeIfUnread(res);
  const body = response.body;
  if (body === null) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!(headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const bytes = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, { ...headers, 'content-length': String(bytes.length) }).end(bytes);
    return;
  }
  res.writeHead(response.status, headers);
  // The agent learns its session id and that the stream is open before the first event.
  res.flushHeaders();
  await copyEventStream(body, res, onWrite);
}

/**
 * Copies without waiting for 'drain', on purpose: back-pressure would only move the backlog into
 * the SDK's queue, out of sight. The caller bounds it instead (see output-bound.ts).
 */
async function copyEventStream(body: ReadableStream<Uint8Array>, res: ServerResponse, onWrite: StreamWriteListener): Promise<void> {
  const reader = body.getReader();
  // The client went away or warden ended the response: the SDK forgets the stream (its cancel).
  const cancel = (): void => void reader.cancel().catch(() => undefined);
  res.once('close', cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      res.write(value);
      onWrite(res, value.byteLength);
    }
    if (!res.destroyed) res.end();
  } catch {
    // The stream errored: the answer cannot be completed, so the client must see it break.
    res.destroy();
  } finally {
    res.off('close', cancel);
    // Left because the response is gone: the SDK must stop queueing events for it.
    if (res.destroyed) cancel();
  }
}
