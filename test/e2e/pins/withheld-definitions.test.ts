import { join } from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/identity-env.js';
import { connectHttp } from '../../helpers/mcp-clients.js';
import { runWardenCli } from '../../helpers/identity-warden.js';
import { upstreams } from '../../helpers/paths.js';
import { acmeCalls, auditRecords, listAllTools, POISON, POISON_MARKERS, pinsWardensClosedAfterEach, startPinsWarden, type PinsWarden } from '../../helpers/pins-listing-warden.js';
import { acmeConfig, spawnWardenHttp, tempDir } from '../../helpers/warden-process.js';

/**
 * The model reads tools/list. A tool server that changes a tool's description after it was pinned
 * (rug pull), or lists a never-seen tool whose description carries instructions for the model,
 * must not get that text to the model until an operator accepts it: warden withholds the tool
 * from tools/list, keeps its calls held, and lists it again (announcing list_changed) once
 * `warden pins accept` ran. Real processes: SDK Client → warden (stdio) → ACME server.
 */
type CallResult = { isError?: boolean; _meta?: Record<string, { reason?: string; reasons?: string[] }> };
const decisionOf = (r: unknown) => (r as CallResult)._meta?.['dev.mcp-warden/decision'];
const poisoned = JSON.stringify({ echo: POISON });

const start = pinsWardensClosedAfterEach();

function expectNoPoison(tools: unknown): void {
  const text = JSON.stringify(tools);
  for (const marker of POISON_MARKERS) expect(text).not.toContain(marker);
}

/** What an operator does for a flagged definition: read it in `diff`, then accept that digest. */
async function reviewedDigest(pinsFile: string, tool: string): Promise<string> {
  const diff = await runWardenCli(['pins', 'diff', '--file', pinsFile, '--tool', tool, '--json']);
  const held = (JSON.parse(diff.stdout) as { changes: { pendingDigest: string }[] }).changes;
  expect(held).toHaveLength(1);
  return held[0]!.pendingDigest;
}

async function acceptEcho(dir: string, w: PinsWarden): Promise<void> {
  const before = w.listChanged.count;
  const digest = await reviewedDigest(`${dir}/pins.json`, 'echo');
  const accept = await runWardenCli(['pins', 'accept', '--file', `${dir}/pins.json`, '--upstream', 'acme', '--tool', 'echo', '--digest', digest]);
  expect(accept.status, accept.stderr).toBe(0);
  // The running warden picks the accept up from the watched pin file and asks the agent to re-list.
  await eventually(() => w.listChanged.count > before);
}

describe('pins: withheld tool definitions', () => {
  it('rug-pulled description never reaches the agent (pinned clean, upstream restarted poisoned)', async () => {
    const dir = tempDir('warden-e2e-pins-rug-');
    // Started directly: closed here, before the poisoned restart.
    const clean = await startPinsWarden({ dir, pins: { onChange: 'block', onNew: 'block' } });
    expect((await listAllTools(clean.client)).find((t) => t.name === 'echo')?.description).toBe('Echo the message back');
    await clean.close();

    const w = await start({ dir, acmeEnv: { ACME_DESCRIPTIONS: poisoned }, pins: { onChange: 'block', onNew: 'block' } });
    const tools = await listAllTools(w.client);
    expect(tools.map((t) => t.name)).not.toContain('echo');
    expect(tools.map((t) => t.name)).toContain('read_file');
    expectNoPoison(tools);
    const changed = auditRecords(dir, 'pins.changed').find((r) => r.tool === 'echo');
    expect(changed).toMatchObject({ upstream: 'acme', kind: 'changed', poisoned: expect.arrayContaining(['asks the model to read or send credentials']) });

    // Calls stay held as before (onChange: block), and never reach the upstream.
    const blocked = await w.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(blocked.isError).toBe(true);
    expect(decisionOf(blocked)?.reasons).toContain('tool.definition_changed');
    expect(acmeCalls(dir)).not.toContain('echo');

    await acceptEcho(dir, w);
    const after = await listAllTools(w.client);
    expect(after.find((t) => t.name === 'echo')?.description).toBe(POISON); // an operator accepted exactly this text
  });

  it('rug-pulled description never reaches the agent (changed mid-session, tools/list_changed relayed)', async () => {
    const dir = tempDir('warden-e2e-pins-rug-live-');
    const w = await start({ dir, acmeEnv: { ACME_RUG_PULL: '1' }, pins: { onChange: 'block', onNew: 'block' } });
    await listAllTools(w.client); // first use: every tool is pinned
    const res = await w.client.callTool({ name: 'rug_pull', arguments: { tool: 'echo', description: POISON } });
    expect(res.isError).toBeFalsy();
    await eventually(() => w.listChanged.count > 0); // the upstream's own notification, relayed
    const tools = await listAllTools(w.client);
    expect(tools.map((t) => t.name)).not.toContain('echo');
    expectNoPoison(tools);
  });

  it('first-seen poisoned tool never reaches the agent, is audited, and is listed once accepted', async () => {
    const dir = tempDir('warden-e2e-pins-first-');
    const w = await start({ dir, acmeEnv: { ACME_DESCRIPTIONS: poisoned }, pins: { onChange: 'block', onNew: 'block' } });
    const tools = await listAllTools(w.client);
    expect(tools.map((t) => t.name)).not.toContain('echo');
    expect(tools.length).toBeGreaterThan(10); // the clean tools are trusted on first use as before
    expectNoPoison(tools);
    const firstUse = auditRecords(dir, 'pins.accepted').find((r) => r.by === 'first-use');
    expect(firstUse?.tools).not.toContain('echo');
    expect(auditRecords(dir, 'pins.changed').find((r) => r.tool === 'echo')).toMatchObject({ kind: 'new', poisoned: expect.arrayContaining(['instruction tag aimed at the model (e.g. <IMPORTANT>)']) });

    const blocked = await w.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(blocked.isError).toBe(true);
    expect(decisionOf(blocked)?.reasons).toEqual(expect.arrayContaining(['tool.new_unpinned', 'tool.poisoned_description']));
    expect(acmeCalls(dir)).not.toContain('echo');

    await acceptEcho(dir, w);
    expect((await listAllTools(w.client)).map((t) => t.name)).toContain('echo');
  });

  it('first-seen poisoned tool is withheld behind namespacing, and a paginated first listing is trusted on every page', async () => {
    const dir = tempDir('warden-e2e-pins-multi-');
    const w = await start({ dir, acmeEnv: { ACME_DESCRIPTIONS: poisoned }, pins: { onNew: 'block' }, more: { paged: upstreams.paged() } });
    const names = (await listAllTools(w.client)).map((t) => t.name);
    expect(names).not.toContain('acme__echo');
    expect(names).toContain('acme__read_file');
    // paged-server lists 2 tools per page: the tools on pages 2 and 3 belong to the first listing too.
    expect(names.filter((n) => n.startsWith('paged__')).sort()).toEqual(['paged__alpha', 'paged__bravo', 'paged__charlie', 'paged__delta', 'paged__echo']);
    const last = await w.client.callTool({ name: 'paged__echo', arguments: {} });
    expect(last.isError).toBeFalsy();
  });

  it('rug-pulled description never reaches an HTTP agent either, and the accept is announced on its stream', async () => {
    const dir = tempDir('warden-e2e-pins-http-');
    const warden = await spawnWardenHttp(acmeConfig({
      upstreams: { acme: { ...upstreams.acme(), env: { ACME_RUG_PULL: '1' } } },
      audit: { file: join(dir, 'audit.jsonl') },
      control: { enabled: false },
      pins: { file: join(dir, 'pins.json'), onChange: 'block', onNew: 'block' },
      logging: { level: 'info' }, // the helper learns warden's URL from its start-up log line
    }));
    const notified = { count: 0 };
    const agent = await connectHttp(warden.url, { setup: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void (notified.count += 1)) });
    try {
      await listAllTools(agent.client);
      await agent.client.callTool({ name: 'rug_pull', arguments: { tool: 'echo', description: POISON } });
      await eventually(() => notified.count > 0);
      const tools = await listAllTools(agent.client);
      expect(tools.map((t) => t.name)).not.toContain('echo');
      expectNoPoison(tools);
      const before = notified.count;
      const accept = await runWardenCli(['pins', 'accept', '--file', join(dir, 'pins.json'), '--tool', 'echo', '--digest', await reviewedDigest(join(dir, 'pins.json'), 'echo')]);
      expect(accept.status, accept.stderr).toBe(0);
      await eventually(() => notified.count > before);
      expect((await listAllTools(agent.client)).find((t) => t.name === 'echo')?.description).toBe(POISON);
    } finally {
      await agent.close();
      await warden.stop();
    }
  });
});
