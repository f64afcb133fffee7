#!/usr/bin/env node
/**
 * `npm start`: warden (anonymous mode, allow-all guard) in front of the ACME example server, a
 * scripted agent making a few calls, each passing through. Checks its own outcome; exits 0.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { runScriptedAgent, type AgentStep } from '../agents/scripted-agent.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const acme = join(root, 'dist/examples/servers/acme-server.js');
const warden = join(root, 'dist/src/cli/main.js');

const steps: AgentStep[] = [
  { tool: 'echo', arguments: { message: 'hello through warden' }, expect: 'ok', why: 'harmless' },
  { tool: 'read_file', arguments: { path: '/docs/readme.txt' }, expect: 'ok', why: 'read-only' },
  { tool: 'list_customers', arguments: { limit: 3 }, expect: 'ok', why: 'read-only, structured' },
  { tool: 'transfer_funds', arguments: { amount: 25, currency: 'EUR', payee: 'ACME Supplies' }, expect: 'ok', why: 'no policy yet: allowed' },
  { tool: 'run_shell', arguments: { command: 'ls /' }, expect: 'ok', why: 'demo tool only echoes' },
  { tool: 'no_such_tool', arguments: {}, expect: 'blocked', why: 'unknown tool: the server answers isError' },
];

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-demo-'));
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, [
    'dangerouslyAllowAnonymous: true',
    'logging: { level: warn }',
    'upstreams:',
    `  acme: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(acme)}] }`,
    '',
  ].join('\n'));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print('mcp-warden demo: agent -> warden (anonymous, allow-all) -> ACME tool server');
  const client = new Client({ name: 'demo-agent', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [warden, 'run', '--config', config], env: getDefaultEnvironment(), stderr: 'ignore' }));
  try {
    const server = client.getServerVersion();
    const { tools } = await client.listTools();
    print(`connected to ${server?.name} ${server?.version}; ${tools.length} tools listed`);
    const outcomes = await runScriptedAgent(client, steps, print);
    const failed = outcomes.filter((o) => o.got !== o.step.expect);
    print(failed.length === 0 ? `all ${outcomes.length} calls behaved as expected` : `${failed.length} call(s) did not behave as expected`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`demo failed: ${String(err)}\n`);
  process.exit(1);
});
