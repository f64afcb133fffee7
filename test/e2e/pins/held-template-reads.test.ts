import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/identity-env.js';
import { runWardenCli } from '../../helpers/identity-warden.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';
import { REPO_ROOT, TRANSPARENT_POLICY, upstreams } from '../../helpers/paths.js';
import { auditRecords, POISON } from '../../helpers/pins-listing-warden.js';
import { acmeConfig, spawnWardenStdio, tempDir } from '../../helpers/warden-process.js';

/**
 * A resource template is pinned: its text reaches the model and its uriTemplate says which URIs
 * the upstream claims. While one is held (its definition changed since it was accepted), it is
 * left out of resources/templates/list; reading a URI only it claims, or completing its
 * variables, must be refused too, or the upstream that rewrote it still serves the model through
 * it. Real processes: SDK Client → warden (stdio) → fixture server that logs every read and
 * completion it receives.
 */
const SERVER = join(REPO_ROOT, 'test/fixtures/pins/rug-pull-definitions-server.mjs');
const running: ConnectedClient[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.close()));
});

interface TemplatesWarden extends ConnectedClient {
  readonly resourcesChanged: { count: number };
}

async function start(dir: string, env: Record<string, string> = {}, more: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<TemplatesWarden> {
  const resourcesChanged = { count: 0 };
  const w = await spawnWardenStdio(
    acmeConfig({
      upstreams: { defs: { command: process.execPath, args: [SERVER], env: { DEF_DIR: dir, ...env } }, ...more },
      audit: { file: join(dir, 'audit.jsonl') },
      control: { enabled: false },
      pins: { file: join(dir, 'pins.json') },
      ...config,
    }),
    { setup: (client) => client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void (resourcesChanged.count += 1)) },
  );
  running.push(w);
  return { ...w, resourcesChanged };
}

const received = (dir: string): string[] => (existsSync(join(dir, 'requests')) ? readFileSync(join(dir, 'requests'), 'utf8').split('\n').filter(Boolean) : []);
const read = (w: ConnectedClient, uri: string) => w.client.readResource({ uri });
const textOf = (r: { contents: unknown[] }) => (r.contents[0] as { text?: string }).text;

/** Rewrites the `file` template's description through the server's own tool, and waits for its announcement. */
async function rugPullTemplate(w: TemplatesWarden, tool = 'rug_pull'): Promise<void> {
  const before = w.resourcesChanged.count;
  expect((await w.client.callTool({ name: tool, arguments: { file: POISON } })).isError).toBeFalsy();
  await eventually(() => w.resourcesChanged.count > before);
}

describe('pins: reads and completions through a held resource template', () => {
  it('refuses reading a URI only a rug-pulled template claims (read through a held template): never forwarded, audited; a listed concrete resource reads as before; accept restores reads', async () => {
    const dir = tempDir('warden-e2e-pins-template-read-');
    const w = await start(dir);
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file']); // first use: pinned
    expect((await w.client.listResources()).resources.map((r) => r.uri)).toEqual(['docs://files/readme.txt']);
    expect(textOf(await read(w, 'docs://files/notes.txt'))).toBe('contents of docs://files/notes.txt');

    await rugPullTemplate(w);
    // The agent does not list the templates again: warden lists and judges them before the read.
    await expect(read(w, 'docs://files/notes.txt')).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    expect(received(dir)).toEqual(['resources/read docs://files/notes.txt']); // the second read never reached the upstream
    expect(auditRecords(dir, 'request.refused')).toMatchObject([
      { method: 'resources/read', upstream: 'defs', uri: 'docs://files/notes.txt', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
    ]);
    // A URI the upstream lists as a concrete resource is a resource, not the template's.
    expect(textOf(await read(w, 'docs://files/readme.txt'))).toBe('contents of docs://files/readme.txt');
    // A URI no template claims is read as before.
    expect(textOf(await read(w, 'docs://elsewhere.txt'))).toBe('contents of docs://elsewhere.txt');

    const diff = await runWardenCli(['pins', 'diff', '--file', join(dir, 'pins.json'), '--template', 'file', '--json']);
    const held = (JSON.parse(diff.stdout) as { changes: { pendingDigest: string }[] }).changes[0]!;
    const accept = await runWardenCli(['pins', 'accept', '--file', join(dir, 'pins.json'), '--template', 'file', '--digest', held.pendingDigest]);
    expect(accept.status, accept.stderr).toBe(0);
    await eventually(async () => (await w.client.listResourceTemplates()).resourceTemplates.length === 1);
    expect(textOf(await read(w, 'docs://files/notes.txt'))).toBe('contents of docs://files/notes.txt');
  });

  it('refuses a read through a held template with the URI spelt differently (scheme or host case, percent-encoding, dot segments, backslashes, slashes): never forwarded', async () => {
    const dir = tempDir('warden-e2e-pins-template-spelling-');
    const w = await start(dir);
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file']);
    expect((await w.client.listResources()).resources.map((r) => r.uri)).toEqual(['docs://files/readme.txt']);
    await rugPullTemplate(w);
    // Each is `docs://files/notes.txt` to many URL parsers, so it would reach the upstream that
    // rewrote `docs://files/{path}` and be served through it.
    const spellings = [
      'DOCS://files/notes.txt',
      'docs://FILES/notes.txt',
      'docs://%66iles/notes.txt',
      'docs://%2566iles/notes.txt',
      'docs:///elsewhere/../files/notes.txt',
      'docs:/./files/notes.txt',
      'docs:\\\\files\\notes.txt',
      'docs:////files//notes.txt',
      // A listed concrete resource is read as before only under the exact URI the upstream listed.
      'DOCS://files/readme.txt',
    ];
    for (const uri of spellings) {
      await expect(read(w, uri), uri).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    }
    expect(received(dir)).toEqual([]);
    expect(auditRecords(dir, 'request.refused')).toMatchObject(spellings.map((uri) => ({ method: 'resources/read', upstream: 'defs', uri, resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' })));
    // Not every URI is the held template's: another path of the scheme is read as before.
    expect(textOf(await read(w, 'DOCS://elsewhere.txt'))).toBe('contents of DOCS://elsewhere.txt');
    expect(textOf(await read(w, 'docs://files/readme.txt'))).toBe('contents of docs://files/readme.txt');
    expect(received(dir)).toEqual(['resources/read DOCS://elsewhere.txt', 'resources/read docs://files/readme.txt']);
  });

  it('refuses completing a held template\'s variable with its uriTemplate spelt differently (completion through a held template, case-folded)', async () => {
    const dir = tempDir('warden-e2e-pins-template-completion-spelling-');
    const w = await start(dir);
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file']);
    await rugPullTemplate(w);
    await expect(w.client.complete({ ref: { type: 'ref/resource', uri: 'DOCS://files/%7Bpath%7D' }, argument: { name: 'path', value: 'r' } })).rejects.toMatchObject({
      code: -32602,
      data: { reason: 'resourceTemplate.definition_changed' },
    });
    expect(received(dir)).toEqual([]);
  });

  it('refuses subscribing to a URI only a held template claims (subscription through a held template): never forwarded, audited; a listed concrete resource subscribes as before; unsubscribe is never refused', async () => {
    const dir = tempDir('warden-e2e-pins-template-subscribe-');
    const w = await start(dir);
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file']);
    expect((await w.client.listResources()).resources.map((r) => r.uri)).toEqual(['docs://files/readme.txt']);
    await w.client.subscribeResource({ uri: 'docs://files/old.txt' }); // before the rug pull: goes through

    await rugPullTemplate(w);
    for (const uri of ['docs://files/notes.txt', 'DOCS://files/notes.txt']) {
      await expect(w.client.subscribeResource({ uri }), uri).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    }
    expect(auditRecords(dir, 'request.refused')).toMatchObject([
      { method: 'resources/subscribe', upstream: 'defs', uri: 'docs://files/notes.txt', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
      { method: 'resources/subscribe', upstream: 'defs', uri: 'DOCS://files/notes.txt', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
    ]);
    // A URI the upstream listed as a concrete resource is a resource, not the template's.
    await w.client.subscribeResource({ uri: 'docs://files/readme.txt' });
    // Unsubscribing is never refused, even from a URI the held template claims.
    await w.client.unsubscribeResource({ uri: 'docs://files/old.txt' });
    await w.client.unsubscribeResource({ uri: 'docs://files/notes.txt' });
    expect(received(dir)).toEqual([
      'resources/subscribe docs://files/old.txt',
      'resources/subscribe docs://files/readme.txt',
      'resources/unsubscribe docs://files/old.txt',
      'resources/unsubscribe docs://files/notes.txt',
    ]);
  });

  it('records the URI of a read or subscription refused through a held template redacted by the policy\'s redaction, as call.received records a read (account number in a refused URI)', async () => {
    // The policy hides account numbers wherever they appear; a URI naming one was written in
    // clear in request.refused (only the sink's own rules applied) while call.received hid it.
    const dir = tempDir('warden-e2e-pins-template-redacted-uri-');
    const overlay = join(dir, 'redact-accounts.yaml');
    writeFileSync(overlay, "redact:\n  patterns: ['acct-[0-9]{6}']\n");
    const w = await start(dir, {}, {}, { policy: { files: [TRANSPARENT_POLICY, overlay], watch: false } });
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file']);
    expect(textOf(await read(w, 'docs://files/acct-123456.txt'))).toBe('contents of docs://files/acct-123456.txt');
    await rugPullTemplate(w);
    await expect(read(w, 'docs://files/acct-654321.txt')).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    await expect(w.client.subscribeResource({ uri: 'docs://files/acct-777777.txt' })).rejects.toMatchObject({ code: -32602 });
    expect(auditRecords(dir, 'call.received').filter((r) => r.tool === 'resources/read').map((r) => r.args)).toEqual([{ uri: 'docs://files/[REDACTED].txt' }]);
    expect(auditRecords(dir, 'request.refused')).toMatchObject([
      { method: 'resources/read', upstream: 'defs', uri: 'docs://files/[REDACTED].txt', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
      { method: 'resources/subscribe', upstream: 'defs', uri: 'docs://files/[REDACTED].txt', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
    ]);
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).not.toMatch(/acct-\d{6}/);
  });

  it('refuses a URI that a held and an accepted template both claim (overlapping templates fail closed)', async () => {
    const dir = tempDir('warden-e2e-pins-template-overlap-');
    const w = await start(dir, { DEF_OVERLAP: '1' });
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name)).toEqual(['file', 'folder']);
    await rugPullTemplate(w);
    await expect(read(w, 'docs://files/notes.txt')).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    expect(auditRecords(dir, 'request.refused')).toMatchObject([{ uri: 'docs://files/notes.txt', resourceTemplate: 'file' }]);
    // Only the accepted `folder` claims this one.
    expect(textOf(await read(w, 'docs://other.txt'))).toBe('contents of docs://other.txt');
    expect(received(dir)).toEqual(['resources/read docs://other.txt']);
  });

  it('refuses completing a held template\'s variable (completion through a held template)', async () => {
    const dir = tempDir('warden-e2e-pins-template-completion-');
    const w = await start(dir);
    const complete = () => w.client.complete({ ref: { type: 'ref/resource', uri: 'docs://files/{path}' }, argument: { name: 'path', value: 'r' } });
    expect((await complete()).completion.values).toEqual(['readme.txt']);
    await rugPullTemplate(w);
    await expect(complete()).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    expect(received(dir)).toEqual(['completion/complete docs://files/{path}']);
    expect(auditRecords(dir, 'request.refused')).toMatchObject([
      { method: 'completion/complete', upstream: 'defs', uri: 'docs://files/{path}', resourceTemplate: 'file', reason: 'resourceTemplate.definition_changed' },
    ]);
  });

  it('with several upstreams: a read routed to the upstream whose template is held is refused; the other upstream reads as before', async () => {
    const dir = tempDir('warden-e2e-pins-template-read-multi-');
    mkdirSync(dir, { recursive: true });
    const w = await start(dir, {}, { acme: upstreams.acme() });
    expect((await w.client.listResourceTemplates()).resourceTemplates.map((t) => t.name).sort()).toEqual(['acme__file', 'defs__file']);
    await rugPullTemplate(w, 'defs__rug_pull');
    await expect(read(w, 'docs://files/notes.txt')).rejects.toMatchObject({ code: -32602, data: { reason: 'resourceTemplate.definition_changed' } });
    expect(auditRecords(dir, 'request.refused')).toMatchObject([{ upstream: 'defs', resourceTemplate: 'file' }]);
    expect(received(dir)).toEqual([]);
    expect((await read(w, 'acme://files/docs/readme.txt')).contents).toHaveLength(1);
  });
});
