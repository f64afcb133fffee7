import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal Streamable HTTP MCP server (JSON answers, no GET stream) whose tool `big` answers with
 * a text of `bytes` characters, as JSON or as one SSE event: a hostile upstream sending one
 * message larger than warden's bound.
 */
export async function startBigHttpUpstream(bytes: number, sse: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(405).end();
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const m = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string; name?: string } };
      if (m.id === undefined) return void res.writeHead(202).end();
      const reply = (result: unknown): void => {
        const text = JSON.stringify({ jsonrpc: '2.0', id: m.id, result });
        if (sse) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
          res.end(`event: message\ndata: ${text}\n\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(text);
        }
      };
      if (m.method === 'initialize') return reply({ protocolVersion: m.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'big', version: '1' } });
      if (m.method === 'tools/list') return reply({ tools: [{ name: 'big', inputSchema: { type: 'object' } }, { name: 'small', inputSchema: { type: 'object' } }] });
      if (m.method === 'tools/call') return reply({ content: [{ type: 'text', text: m.params?.name === 'big' ? 'x'.repeat(bytes) : 'small' }] });
      reply({});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
