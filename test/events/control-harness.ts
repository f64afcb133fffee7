import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlRoute } from '../../src/control/control-route.js';

/**
 * Minimal stand-in for the control API server (built elsewhere): mounts ControlRoute[] behind the
 * same `Authorization: Bearer <admin token>` check, JSON in and out. Test use only.
 */
export async function startControlHarness(routes: readonly ControlRoute[], adminToken: string): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const reply = (status: number, body: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${adminToken}`) return reply(401, { error: 'unauthorized' });
        const url = new URL(req.url ?? '/', 'http://harness');
        const route = routes.find((r) => r.method === req.method && r.path === url.pathname);
        if (!route) return reply(404, { error: 'not_found' });
        let body: unknown;
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        } catch {
          return reply(400, { error: 'invalid_json' });
        }
        try {
          const out = await route.handle({ params: {}, query: url.searchParams, body, caller: { kind: 'admin', id: 'test-admin' }, request: req });
          reply(out.status, out.body);
        } catch {
          reply(500, { error: 'internal' });
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, server, close: () => new Promise((r) => server.close(() => r())) };
}
