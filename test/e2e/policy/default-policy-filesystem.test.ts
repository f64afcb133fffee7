import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, upstreams } from '../../helpers/paths.js';
import { spawnWardenStdio, tempDir } from '../../helpers/warden-process.js';
import type { ConnectedClient } from '../../helpers/mcp-clients.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY----- policy-e2e-marker';
type Decision = { action: string; rules: string[]; reasons: string[] };
type CallResult = { isError?: boolean; content?: { type: string; text?: string }[]; _meta?: Record<string, unknown> };

const text = (r: CallResult): string => (r.content ?? []).map((c) => c.text ?? '').join('\n');
const decisionOf = (r: CallResult) => r._meta?.['dev.mcp-warden/decision'] as Decision | undefined;

/**
 * The shipped default policy in front of the real @modelcontextprotocol/server-filesystem, which
 * the README calls a safe starting point: the review read a private key through
 * read_multiple_files (`paths`) while read_text_file on it was blocked.
 */
describe('default policy with the real filesystem server', () => {
  let root: string;
  let auditFile: string;
  let warden: ConnectedClient;
  beforeAll(async () => {
    root = tempDir('warden-fs-root-');
    auditFile = join(tempDir('warden-fs-audit-'), 'audit.jsonl');
    mkdirSync(join(root, '.ssh'));
    writeFileSync(join(root, '.ssh', 'id_rsa'), KEY);
    writeFileSync(join(root, 'notes.txt'), 'ordinary notes');
    mkdirSync(join(root, '.aws'));
    writeFileSync(join(root, '.aws', 'credentials'), 'aws_secret_access_key = policy-e2e-aws-marker');
    warden = await spawnWardenStdio({
      dangerouslyAllowAnonymous: true,
      upstreams: { fs: upstreams.filesystem(root) },
      logging: { level: 'warn' },
      policy: { files: [join(REPO_ROOT, 'policies/default.yaml')], watch: false },
      pins: { onNew: 'allow' },
      audit: { file: auditFile },
    });
  }, 30_000);
  afterAll(async () => {
    await warden?.close();
  });
  const call = (name: string, args: Record<string, unknown>) => warden.client.callTool({ name, arguments: args }) as Promise<CallResult>;

  it('blocks reading a private key through read_multiple_files (paths array), and the key never reaches the agent', async () => {
    const r = await call('read_multiple_files', { paths: [join(root, 'notes.txt'), join(root, '.ssh', 'id_rsa')] });
    expect(r.isError).toBe(true);
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(text(r)).not.toContain('policy-e2e-marker');
  });
  it('blocks moving a private key out of .ssh (move_file source); the key stays where it was', async () => {
    const r = await call('move_file', { source: join(root, '.ssh', 'id_rsa'), destination: join(root, 'k.txt') });
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(existsSync(join(root, '.ssh', 'id_rsa'))).toBe(true);
    expect(existsSync(join(root, 'k.txt'))).toBe(false);
  });
  it('blocks a relative path that climbs out and back in (../<root>/.ssh/id_rsa); the server would resolve it to the key', async () => {
    const r = await call('read_text_file', { path: `../${basename(root)}/.ssh/id_rsa` });
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(text(r)).not.toContain('policy-e2e-marker');
  });
  it('blocks a path with :// before a climb (<root>/x://../.ssh/id_rsa), which the server resolves to the key', async () => {
    const r = await call('read_text_file', { path: `${root}/x://../.ssh/id_rsa` });
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(text(r)).not.toContain('policy-e2e-marker');
  });
  it('blocks moving the whole .aws folder out (then credentials would be read as <dest>/credentials)', async () => {
    const r = await call('move_file', { source: join(root, '.aws'), destination: join(root, 'a') });
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(existsSync(join(root, '.aws', 'credentials'))).toBe(true);
    expect(existsSync(join(root, 'a'))).toBe(false);
  });
  it('blocks replacing the whole .ssh folder (authorized_keys planted by moving a folder into place)', async () => {
    mkdirSync(join(root, 'evil'));
    writeFileSync(join(root, 'evil', 'authorized_keys'), 'ssh-ed25519 AAAA attacker');
    const r = await call('move_file', { source: join(root, 'evil'), destination: join(root, '.ssh') });
    expect(decisionOf(r)).toMatchObject({ action: 'block', rules: ['block-secret-files'] });
    expect(existsSync(join(root, 'evil', 'authorized_keys'))).toBe(true);
  });
  it('keeps the text an edit writes (edit_file edits[].newText, redacted by the policy) out of the audit file', async () => {
    writeFileSync(join(root, 'config.txt'), 'password = old');
    const r = await call('edit_file', { path: join(root, 'config.txt'), edits: [{ oldText: 'old', newText: 'policy-e2e-new-secret' }] });
    expect(r.isError ?? false).toBe(false);
    expect(readFileSync(join(root, 'config.txt'), 'utf8')).toBe('password = policy-e2e-new-secret');
    const received = readFileSync(auditFile, 'utf8').split('\n').filter((l) => l.includes('"call.received"') && l.includes('edit_file'));
    expect(received).toHaveLength(1);
    expect(received[0]).toContain('[REDACTED]');
    expect(received[0]).not.toContain('policy-e2e-new-secret');
  });
  it('still reads ordinary files, and an anonymous caller gets no token-age reason (it has no token)', async () => {
    const r = await call('read_multiple_files', { paths: [join(root, 'notes.txt')] });
    expect(r.isError ?? false).toBe(false);
    expect(text(r)).toContain('ordinary notes');
    const blocked = await call('read_text_file', { path: join(root, '.ssh', 'id_rsa') });
    expect(decisionOf(blocked)?.reasons).not.toContain('context.token_age');
  });
});
