import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How much an endless key server sends at most (64 MiB); a bounded reader stops long before. */
export const ENDLESS_JWKS_BYTES = 64 * 1024 * 1024;

export interface EndlessKeyServer {
  readonly url: string;
  /** Bytes written so far. */
  sent(): number;
  close(): Promise<void>;
}

/**
 * A JWKS endpoint that streams up to ENDLESS_JWKS_BYTES of JSON-ish bytes (with a matching
 * `content-length` or chunked without one), counting what went out: a key set reader must stop
 * the download, not judge the document afterwards.
 */
export async function endlessKeyServer(withLength: boolean): Promise<EndlessKeyServer> {
  let sent = 0;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(withLength ? { 'content-length': String(ENDLESS_JWKS_BYTES) } : {}) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const pump = (): void => {
      while (!closed && sent < ENDLESS_JWKS_BYTES) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    sent: () => sent,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
