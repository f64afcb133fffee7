#!/usr/bin/env node
/**
 * A small low-level MCP server that paginates its tools/list and resources/list (page size 2),
 * so warden's pagination passthrough and composite cursors are exercised against a real server.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const PAGE = 2;
const tools = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((name) => ({
  name,
  description: `tool ${name}`,
  inputSchema: { type: 'object' as const, properties: {} },
  annotations: { readOnlyHint: true },
}));
const resources = [1, 2, 3].map((i) => ({ uri: `paged://item/${i}`, name: `item ${i}` }));

function page<T>(items: T[], cursor: string | undefined): { items: T[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : Number(cursor);
  const next = start + PAGE;
  return next < items.length ? { items: items.slice(start, next), nextCursor: String(next) } : { items: items.slice(start) };
}

const server = new Server({ name: 'paged-server', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
server.setRequestHandler(ListToolsRequestSchema, async (req) => {
  const p = page(tools, req.params?.cursor);
  return p.nextCursor ? { tools: p.items, nextCursor: p.nextCursor } : { tools: p.items };
});
server.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `paged:${req.params.name}` }] }));
server.setRequestHandler(ListResourcesRequestSchema, async (req) => {
  const p = page(resources, req.params?.cursor);
  return p.nextCursor ? { resources: p.items, nextCursor: p.nextCursor } : { resources: p.items };
});
server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({ contents: [{ uri: req.params.uri, text: `content of ${req.params.uri}` }] }));

await server.connect(new StdioServerTransport());
