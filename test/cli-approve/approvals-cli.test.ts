import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { controlFixture } from '../fixtures/enforce/control-fixture.js';
import { display } from '../fixtures/enforce/manager-fixture.js';

const MAIN = resolve('dist/src/cli/main.js');

type Fixture = Awaited<ReturnType<typeof controlFixture>>;
let fx: Fixture | undefined;
afterEach(async () => {
  fx?.manager.close();
  await fx?.server.close();
  fx = undefined;
});

function warden(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile('node', [MAIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('warden approvals (no TTY)', () => {
  it('lists, allows with remember, lists and revokes grants, with --json', async () => {
    fx = await controlFixture();
    const env = { WARDEN_CONTROL_URL: fx.server.url, WARDEN_ADMIN_TOKEN_FILE: fx.tokenFile };
    const requested = fx.nextPending();
    const outcome = fx.manager.request(callRequest().req, decision(), display);
    await requested;
    const listed = await warden(['approvals', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const [pending] = (JSON.parse(listed.stdout) as { approvals: { id: string; tool: string }[] }).approvals;
    expect(pending).toMatchObject({ tool: 'write_file' });
    const text = await warden(['approvals', 'list'], env);
    expect(text.stdout).toContain(`${pending!.id}  alice via agent-7 ← planner  fs/write_file (tool call)  score 72`);
    const allowed = await warden(['approvals', 'allow', pending!.id, '--remember', '15', '--match-arguments', '--json'], env);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ ok: true, grant: { argsDigest: expect.stringMatching(/^sha256:/) } });
    expect(await outcome).toMatchObject({ kind: 'allowed' });
    const again = await warden(['approvals', 'allow', pending!.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already_decided');
    const grants = JSON.parse((await warden(['approvals', 'grants', '--json'], env)).stdout) as { grants: { id: string }[] };
    expect(grants.grants).toHaveLength(1);
    expect((await warden(['approvals', 'revoke-grant', grants.grants[0]!.id], env)).stdout).toContain('revoked');
    expect((await warden(['approvals', 'grants'], env)).stdout).toBe('no grants\n');
  });

  it('a read remembered with plain --remember covers only that URI; --any-arguments widens it on purpose; both flags together are a usage error', async () => {
    fx = await controlFixture();
    const env = { WARDEN_CONTROL_URL: fx.server.url, WARDEN_ADMIN_TOKEN_FILE: fx.tokenFile };
    const read = (uri: string) => callRequest({ action: 'resources/read', tool: 'resources/read', exposedName: 'resources/read', arguments: { uri } }).req;
    const answerWith = async (flags: string[]): Promise<Record<string, unknown>> => {
      const requested = fx!.nextPending();
      const outcome = fx!.manager.request(read('file:///reports/q3.pdf'), decision(), display);
      const id = await requested;
      const allowed = await warden(['approvals', 'allow', id, '--remember', '15', ...flags, '--json'], env);
      expect(allowed.code).toBe(0);
      expect(await outcome).toMatchObject({ kind: 'allowed' });
      return JSON.parse(allowed.stdout) as Record<string, unknown>;
    };
    expect(await answerWith([])).toMatchObject({ ok: true, grant: { tool: 'resources/read', argsDigest: expect.stringMatching(/^sha256:/) } });
    const grants = JSON.parse((await warden(['approvals', 'grants', '--json'], env)).stdout) as { grants: { id: string }[] };
    await warden(['approvals', 'revoke-grant', grants.grants[0]!.id], env);
    const widened = await answerWith(['--any-arguments']);
    expect(widened).toMatchObject({ ok: true, grant: { tool: 'resources/read' } });
    expect((widened.grant as Record<string, unknown>).argsDigest).toBeUndefined();
    expect((await warden(['approvals', 'grants'], env)).stdout).toContain('any arguments');
    const both = await warden(['approvals', 'allow', 'apr_x', '--remember', '5', '--match-arguments', '--any-arguments'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exclude each other');
    const stray = await warden(['approvals', 'allow', 'apr_x', '--any-arguments'], env);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('only go with --remember');
  });

  it('show prints every argument line: a payee after 20 lines of padding is not hidden', async () => {
    fx = await controlFixture();
    const env = { WARDEN_CONTROL_URL: fx.server.url, WARDEN_ADMIN_TOKEN_FILE: fx.tokenFile };
    const padding = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`note${i}`, 'routine']));
    const requested = fx.nextPending();
    const outcome = fx.manager.request(callRequest({ arguments: { ...padding, payee: 'mallory-offshore' } }).req, decision(), display);
    const id = await requested;
    const shown = await warden(['approvals', 'show', id], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('"payee": "mallory-offshore"');
    expect(shown.stdout).not.toContain('more lines');
    fx.manager.close();
    expect(await outcome).toMatchObject({ kind: 'withdrawn' });
  });

  it('blocks terminal injection through --json: C1 controls, bidi and invisible characters from the agent are escaped', async () => {
    fx = await controlFixture();
    const env = { WARDEN_CONTROL_URL: fx.server.url, WARDEN_ADMIN_TOKEN_FILE: fx.tokenFile };
    // JSON.stringify escapes C0 controls only: a C1 CSI clears the screen, an RLO reverses the
    // payee an approver reads, variation selectors hide bytes after an emoji.
    const args = { payee: 'ACME \u202elatot', note: 'x\u009b2J\u009d0;pwned\u0007', ok: '👍\u{e0162}\ufe0f', line: 'a\u2028b' };
    const requested = fx.nextPending();
    const outcome = fx.manager.request(callRequest({ arguments: args }).req, decision(), display);
    const id = await requested;
    for (const argv of [['approvals', 'show', id, '--json'], ['approvals', 'list', '--json']]) {
      const out = await warden(argv, env);
      expect(out.code).toBe(0);
      expect(out.stdout).not.toMatch(/[\u007f-\u009f\p{Cf}\p{Zl}\p{Default_Ignorable_Code_Point}]/u);
      // Still JSON, and still the same values: scripts read exactly what the upstream would get.
      const body = JSON.parse(out.stdout) as { arguments?: unknown; approvals?: { arguments: unknown }[] };
      expect(body.arguments ?? body.approvals?.[0]?.arguments).toEqual(args);
    }
    fx.manager.close();
    await outcome;
  });

  it('shows multi-byte arguments exactly, however the control API\'s answer is cut into chunks', async () => {
    fx = await controlFixture();
    const env = { WARDEN_CONTROL_URL: fx.server.url, WARDEN_ADMIN_TOKEN_FILE: fx.tokenFile };
    // 3- and 4-byte characters over several network chunks: a character cut at a chunk boundary
    // must not turn into U+FFFD on the approver's screen (that is not what the upstream gets).
    const args = { payee: 'Müller €', memo: '€😀'.repeat(40_000) };
    const requested = fx.nextPending();
    const outcome = fx.manager.request(callRequest({ arguments: args }).req, decision(), display);
    const id = await requested;
    const out = await warden(['approvals', 'show', id, '--json'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('\ufffd');
    expect((JSON.parse(out.stdout) as { arguments: unknown }).arguments).toEqual(args);
    fx.manager.close();
    await outcome;
  });

  it('denies with a reason from the command line', async () => {
    fx = await controlFixture();
    const pending = fx.nextPending();
    const outcome = fx.manager.request(callRequest().req, decision(), display);
    const id = await pending;
    const r = await warden(['approvals', 'deny', id, '--reason', 'use staging', '--url', fx.server.url, '--token-file', fx.tokenFile]);
    expect(r.code).toBe(0);
    expect(await outcome).toMatchObject({ kind: 'denied', reason: 'use staging' });
  });

  it('exits 2 on bad usage, 4 when warden is unreachable and 3 when the token file is missing', async () => {
    expect((await warden(['approvals', 'allow'])).code).toBe(2);
    expect((await warden(['approvals', 'allow', 'x', '--remember', 'soon'])).code).toBe(2);
    fx = await controlFixture();
    const bad = await warden(['approvals', 'list', '--url', 'http://127.0.0.1:1', '--token-file', fx.tokenFile]);
    expect(bad.code).toBe(4);
    const noToken = await warden(['approvals', 'list', '--url', fx.server.url, '--token-file', '/nonexistent/token']);
    // The same as sessions and revoke: a missing input file is 3.
    expect(noToken.code).toBe(3);
  });

  it('--json keeps a refusal off stdout: a script parsing stdout never reads an error body as the answer', async () => {
    fx = await controlFixture();
    const wrong = join(fx.dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-admin-token\n', { mode: 0o600 });
    const cases: { args: string[]; code: number; says: string }[] = [
      { args: ['approvals', 'show', 'apr_nope', '--json', '--url', fx.server.url, '--token-file', fx.tokenFile], code: 1, says: 'not_found' },
      { args: ['approvals', 'allow', 'apr_nope', '--json', '--url', fx.server.url, '--token-file', fx.tokenFile], code: 1, says: 'not_found' },
      { args: ['approvals', 'list', '--json', '--url', fx.server.url, '--token-file', wrong], code: 1, says: wrong },
      { args: ['approvals', 'list', '--json', '--url', 'http://127.0.0.1:1', '--token-file', fx.tokenFile], code: 4, says: 'cannot reach' },
    ];
    for (const c of cases) {
      const r = await warden(c.args);
      expect(r.code, c.args.join(' ')).toBe(c.code);
      expect(r.stdout, c.args.join(' ')).toBe('');
      expect(r.stderr, c.args.join(' ')).toContain(c.says);
    }
  });

  it('a --url that is not a URL is a bad command line (exit 2) for approvals and approve, as for sessions and revoke', async () => {
    fx = await controlFixture();
    for (const args of [['approvals', 'list'], ['approve'], ['sessions'], ['revoke', '--user', 'alice']]) {
      const r = await warden([...args, '--url', 'notaurl', '--token-file', fx.tokenFile]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('--url: not a URL: notaurl');
    }
    const fromEnv = await warden(['approvals', 'list', '--token-file', fx.tokenFile], { WARDEN_CONTROL_URL: 'notaurl' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('$WARDEN_CONTROL_URL: not a URL: notaurl');
  });

  it('approve names the token file whose credential warden rejected (exit 1), as approvals does', async () => {
    fx = await controlFixture();
    const wrong = join(fx.dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-admin-token\n', { mode: 0o600 });
    for (const args of [['approve'], ['approvals', 'list']]) {
      const r = await warden([...args, '--url', fx.server.url, '--token-file', wrong]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toContain(wrong);
    }
  });
});
