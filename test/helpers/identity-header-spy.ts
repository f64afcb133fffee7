import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeaderSpy {
  /** `http://127.0.0.1:<port>/mcp`: point an HTTP upstream here. */
  readonly url: string;
  /** Headers of every request the spy received, in order. */
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * A byte-level HTTP forwarder that records the headers of every request before passing it on to
 * `target` (Host rewritten so the target's DNS-rebinding check accepts it). Streams both ways,
 * so Streamable HTTP (JSON and SSE answers) works through it unchanged.
 */
export async function startHeaderSpy(target: string): Promise<HeaderSpy> {
  const to = new URL(target);
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push({ ...req.headers });
    const upstream = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
