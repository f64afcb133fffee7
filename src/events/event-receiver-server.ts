import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenFailure } from '../core/listen-failure.js';
import type { EventsConfig } from './events-config.js';
import { RequestSlots } from './request-slots.js';
import { createSetReceiver, type SetReceiverDeps } from './set-receiver.js';

export interface EventReceiverHandle {
  /** Full receiver URL (host, bound port, path): what the transmitter's stream is configured with. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the SET receiver on its own listener (`events.listen`). Requests to any other path get 404.
 * The listener is separate from the control API: transmitters never hold an admin credential.
 */
export async function startEventReceiver(config: EventsConfig, deps: Omit<SetReceiverDeps, 'config'>): Promise<EventReceiverHandle> {
  const handler = createSetReceiver({ ...deps, config });
  const { host, port, path } = config.listen;
  const slots = new RequestSlots(config.limits.maxRequests, config.limits.maxRequestsPerSource);
  const server = createServer((req, res) => {
    if (pathnameOf(req.url) !== path) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ err: 'invalid_request', description: 'unknown path' }));
      return;
    }
    // The slot is taken before anything is read and held until the answer is sent or the
    // connection is gone: a body being read, a SET being verified, each counts.
    const taken = slots.take(req.socket.remoteAddress);
    if (!taken.ok) {
      // Not read, and the connection closes after the answer: a refused sender holds nothing.
      req.resume();
      res.writeHead(taken.status, { 'content-type': 'application/json', 'retry-after': '5', connection: 'close', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ err: 'temporarily_unavailable', description: taken.description }));
      return;
    }
    res.once('close', () => taken.slot.release());
    handler(req, res);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  // Connections, idle or not, each hold a socket and a header buffer: bounded too. Beyond, new
  // connections are dropped at once (the transmitter retries); the slots above bound the bodies.
  server.maxConnections = config.limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenFailure(err, 'events.listen', host, port, EVENTS_PORT_TAKEN)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The request path, or undefined when the request target is no URL path at all. Node's parser
 * accepts targets such as `//` or `//a:b@` that the URL constructor rejects with a throw; this
 * runs synchronously in the request listener, where a throw would end warden, before any check.
 */
function pathnameOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://receiver').pathname;
  } catch {
    return undefined;
  }
}

/**
 * What to do when the receiver's port is taken. The usual cause is a second stdio warden started
 * from the same config: only one of them needs the receiver.
 */
const EVENTS_PORT_TAKEN =
  "if another warden started from this config holds it: wardens sharing a revocations file (state.revocationsFile) take in each other's revocations from it within about 2 s, so only one of them needs the receiver; set events.enabled: false, or another port, in the others' configs";
