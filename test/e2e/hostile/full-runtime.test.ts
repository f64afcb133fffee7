import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactSign } from 'jose';
import { deepJson, hostileUpstream } from '../../helpers/hostile-raw-agent.js';
import { rawRequest } from '../../helpers/hostile-http.js';
import { transmitter, SET_AUDIENCE, type Transmitter } from '../../helpers/events-sets.js';
import { E2E_ISSUER } from '../../helpers/identity-env.js';
import { spawnRawWarden, verifyAudit } from '../../helpers/hostile-warden-process.js';
import { ACME_SERVER, REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/warden-process.js';

type Warden = Awaited<ReturnType<typeof spawnRawWarden>>;

let dir: string;
let w: Warden;
let callLog: string;
let auditFile: string;
let tx: Transmitter;
let controlUrl: string;
let adminToken: string;
let eventsUrl: string;

beforeAll(async () => {
  dir = tempDir('warden-hostile-');
  callLog = join(dir, 'calls.jsonl');
  auditFile = join(dir, 'audit.jsonl');
  tx = await transmitter(dir);
  w = await spawnRawWarden({
    dangerouslyAllowAnonymous: true,
    upstreams: { acme: { command: process.execPath, args: [ACME_SERVER], env: { ACME_CALL_LOG: callLog } } },
    policy: { files: [resolve(REPO_ROOT, 'policies/default.yaml')], watch: false },
    pins: { onNew: 'allow' },
    approvals: { timeoutMs: 1_000 },
    audit: { file: auditFile },
    control: { port: 0, adminTokenFile: join(dir, 'admin-token') },
    events: tx.section(),
    logging: { level: 'info' },
  });
  controlUrl = await w.loggedUrl('control API listening');
  eventsUrl = await w.loggedUrl('security event receiver listening');
  adminToken = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const init = await w.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } });
  expect(init).toHaveProperty('result');
  w.lines.length = 0;
}, 30_000);
afterAll(() => w?.stop());

const calls = (): Array<{ tool: string; arguments: Record<string, unknown> }> =>
  existsSync(callLog) ? readFileSync(callLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

const call = (id: string, tool: string, argsJson: string): string => `{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"${tool}","arguments":${argsJson}}}`;

/**
 * How a call must end: forwarded to the upstream (its own answer), blocked by warden (a tool
 * result carrying warden's decision), a JSON-RPC error, or any one of those (where the verdict
 * can depend on machine load, e.g. a decision budget).
 */
type Outcome = 'forwarded' | 'blocked' | 'error' | 'answered';

/** Hostile arguments through the full decision path (identity, policy, pins, enforcement, audit). */
const GUARD_CASES: Array<[string, string, string, Outcome]> = [
  ['__proto__ and constructor keys', 'echo', '{"message":"hi","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}', 'forwarded'],
  ['a number beyond double range', 'echo', '{"message":"hi","n":1e400}', 'forwarded'],
  ['negative zero and lone surrogates', 'echo', '{"message":"\\ud800x\\udc00","z":-0}', 'forwarded'],
  ['a 2 MB string', 'echo', JSON.stringify({ message: 'x'.repeat(2_000_000) }), 'answered'],
  ['20,000 keys', 'echo', JSON.stringify({ message: 'k', ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }), 'answered'],
  ['nesting of 5,000 levels', 'echo', `{"message":"hi","d":${deepJson(5_000)}}`, 'error'],
  ['nesting of 200,000 levels', 'echo', `{"message":"hi","d":${deepJson(200_000)}}`, 'error'],
  ['a key path hidden behind __proto__', 'read_file', '{"path":"/keys/server.pem","__proto__":{"path":"/ok.txt"}}', 'blocked'],
  ['a key path after a lone surrogate', 'read_file', '{"path":"\\ud800/home/a/.ssh/id_rsa"}', 'blocked'],
  ['a path that is an object', 'read_file', '{"path":{"toString":1}}', 'forwarded'],
  ['a path beyond double range', 'read_file', '{"path":1e400}', 'forwarded'],
  ['a critical tool with 1e400', 'transfer_funds', '{"from":"a","to":"b","amount":1e400}', 'blocked'],
  ['a hidden critical tool nested 5,000 levels', 'run_shell', `{"command":${deepJson(5_000)}}`, 'error'],
  ['an approval-level tool with 1e400 (no digest to bind an approval to)', 'delete_record', '{"table":"crm","id":1e400}', 'blocked'],
  ['an approval-level tool nested 5,000 levels', 'delete_record', `{"table":"crm","id":1,"x":${deepJson(5_000)}}`, 'blocked'],
];

const decisionOf = (answer: Record<string, unknown>): unknown => (answer.result as { _meta?: Record<string, unknown> } | undefined)?._meta?.['dev.mcp-warden/decision'];

function expectOutcome(answer: Record<string, unknown>, outcome: Outcome): void {
  if (outcome === 'error') expect(answer).toHaveProperty('error');
  if (outcome === 'answered') expect('result' in answer || 'error' in answer).toBe(true);
  if (outcome === 'forwarded') {
    expect(answer).toHaveProperty('result');
    expect(decisionOf(answer)).toBeUndefined();
  }
  if (outcome === 'blocked') {
    expect((answer.result as { isError?: boolean }).isError).toBe(true);
    expect(decisionOf(answer)).toMatchObject({ action: expect.any(String) });
  }
}

describe('hostile tool arguments through warden run (full runtime)', () => {
  GUARD_CASES.forEach(([attack, tool, args, outcome], i) => {
    it(`answers ${tool} with ${attack} exactly once (${outcome}) and keeps serving`, async () => {
      const id = `g${i}`;
      expectOutcome(await w.exchange(call(id, tool, args), id), outcome);
      expect(await w.alive()).toBe(true);
      expect(w.answersFor(id)).toHaveLength(1);
    });
  });
});

const admin = () => ({ authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' });

/** Control API requests an admin (or a stolen-token attacker) could send. */
const CONTROL_CASES: Array<[string, string, string, () => Record<string, string>, string, number]> = [
  ['a revoke body of 1e400', 'POST', '/revoke', admin, '1e400', 400],
  ['a revoke body that is an array', 'POST', '/revoke', admin, '[{"user":"a"}]', 400],
  ['a revoke target whose toString is not callable', 'POST', '/revoke', admin, '{"user":{"toString":1}}', 400],
  ['a revoke target under __proto__', 'POST', '/revoke', admin, '{"__proto__":{"user":"alice"}}', 400],
  ['a revoke body nested 200,000 levels', 'POST', '/revoke', admin, `{"user":${deepJson(200_000)}}`, 413],
  ['a revoke body that is not JSON', 'POST', '/revoke', admin, '{"user":', 400],
  ['a revoke body over the size bound', 'POST', '/revoke', admin, JSON.stringify({ user: 'x'.repeat(70_000) }), 413],
  ['an approval id __proto__ with a remember of 1e400', 'POST', '/approvals/__proto__/allow', admin, '{"rememberMinutes":1e400}', 400],
  ['an approval id constructor with an object reason', 'POST', '/approvals/constructor/deny', admin, '{"reason":{"toString":1},"argsDigest":[1]}', 400],
  ['an approval id with broken percent-encoding', 'GET', '/approvals/%E0%A4%A', admin, '', 404],
  ['a grant id hasOwnProperty', 'DELETE', '/grants/hasOwnProperty', admin, '', 404],
  ['a request target of //', 'GET', '//', admin, '', 404],
  ['a request target of //a:b@', 'GET', '//a:b@', admin, '', 404],
  ['a body without credentials', 'POST', '/revoke', () => ({ 'content-type': 'application/json' }), '{"user":"alice"}', 401],
];

describe('hostile requests to the control API', () => {
  for (const [attack, method, path, headers, body, status] of CONTROL_CASES) {
    it(`answers ${attack} with HTTP ${status} and keeps serving`, async () => {
      const res = await rawRequest(controlUrl, { method, path, headers: headers(), body });
      expect(res.status).toBe(status);
      expect(await w.alive()).toBe(true);
    });
  }
});

/** Signs raw payload bytes as the transmitter would (JSON.stringify could never write 1e400). */
const signRaw = (payload: string) =>
  new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: tx.key.kid, typ: 'secevent+jwt' }).sign(tx.key.privateKey);
const claims = (rest: string) => `{"iss":"${E2E_ISSUER}","aud":"${SET_AUDIENCE}","iat":${Math.floor(Date.now() / 1000)},"jti":"${Math.random()}",${rest}}`;
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const SET_JSON = { 'content-type': 'application/secevent+jwt' };

/** Security Event Tokens and requests a network attacker or a confused transmitter could send. */
const SET_CASES: Array<[string, string, string, Record<string, string>, (() => Promise<string>) | string, number]> = [
  ['a request target of //', 'GET', '//', {}, '', 404],
  ['a request target of ///', 'POST', '///', SET_JSON, 'x', 404],
  ['a request target of //a:b@', 'GET', '//a:b@', {}, '', 404],
  ['a body that is not a JWT', 'POST', '', SET_JSON, '1e400', 400],
  ['an unsigned SET (alg none)', 'POST', '', SET_JSON, async () => `${Buffer.from('{"alg":"none","typ":"secevent+jwt"}').toString('base64url')}.${Buffer.from(claims('"events":{}')).toString('base64url')}.`, 400],
  ['a body over the size bound', 'POST', '', SET_JSON, 'a'.repeat(70_000), 400],
  ['a signed SET whose subject format cannot be converted to a string', 'POST', '', SET_JSON, () => signRaw(claims(`"sub_id":{"format":{"toString":1}},"events":{"${CAEP}session-revoked":{}}`)), 202],
  ['a signed SET whose levels cannot be converted to a string', 'POST', '', SET_JSON, () => signRaw(claims(`"sub_id":{"format":"opaque","id":"nobody"},"events":{"${CAEP}assurance-level-change":{"previous_level":{"toString":1},"current_level":{"valueOf":1,"toString":1}}}`)), 202],
  ['a signed SET with an event type __proto__', 'POST', '', SET_JSON, () => signRaw(claims('"sub_id":{"format":"opaque","id":"x"},"events":{"__proto__":{"polluted":1}}')), 202],
  ['a signed SET with a timestamp beyond double range', 'POST', '', SET_JSON, () => signRaw(claims(`"sub_id":{"format":"opaque","id":"nobody"},"events":{"${CAEP}session-revoked":{"event_timestamp":1e400}}`)), 202],
  ['a signed SET nested 20,000 levels', 'POST', '', SET_JSON, () => signRaw(claims(`"sub_id":{"format":"opaque","id":"nobody"},"events":{"${CAEP}session-revoked":{"d":${deepJson(20_000)}}}`)), 202],
  ['a signed SET with claims nested beyond the stack', 'POST', '', SET_JSON, () => signRaw(claims(`"sub_id":{"format":"opaque","id":"nobody"},"events":{"${CAEP}token-claims-change":{"claims":{"d":${deepJson(5_000)}}}}`)), 202],
];

describe('hostile requests to the Security Event Token receiver', () => {
  for (const [attack, method, path, headers, body, status] of SET_CASES) {
    it(`answers ${attack} with HTTP ${status} and keeps serving`, async () => {
      const res = await rawRequest(eventsUrl, { method, path: path || new URL(eventsUrl).pathname, headers, body: typeof body === 'function' ? await body() : body });
      expect(res.status).toBe(status);
      expect(await w.alive()).toBe(true);
    });
  }
});

describe('after the hostile corpus', () => {
  it('forwarded none of the blocked calls and the audit trail still verifies', async () => {
    expect(await w.alive()).toBe(true);
    const forwarded = calls();
    expect(forwarded.map((c) => c.tool).filter((t) => t !== 'echo' && t !== 'read_file')).toEqual([]);
    // The key paths were blocked; the two paths that are not text reached ACME but failed its input
    // validation, which runs before its call log: no read_file ever ran.
    expect(forwarded.filter((c) => c.tool === 'read_file')).toEqual([]);
    expect(forwarded.some((c) => 'd' in c.arguments)).toBe(false);
    const v = verifyAudit(auditFile);
    expect(v.report).toMatchObject({ ok: true });
    expect(v.code).toBe(0);
  });
});

/** `warden run` in front of the hostile fixture server: anonymous, this policy, audit and control API in `d`. */
function hostileRuntime(d: string, policyFile: string): Record<string, unknown> {
  return {
    dangerouslyAllowAnonymous: true,
    upstreams: { hostile: hostileUpstream() },
    policy: { files: [policyFile], watch: false },
    pins: { onNew: 'allow' },
    audit: { file: join(d, 'audit.jsonl') },
    control: { port: 0, adminTokenFile: join(d, 'admin-token') },
    logging: { level: 'warn' },
  };
}

describe('tools named like Object.prototype members through the full runtime', () => {
  it('judges __proto__, constructor, toString and hasOwnProperty as plain names and forwards only the allowed ones', async () => {
    const d = tempDir('warden-hostile-names-');
    const p = await spawnRawWarden(hostileRuntime(d, resolve(REPO_ROOT, 'test/fixtures/hostile/prototype-names-policy.yaml')));
    try {
      expect(await p.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } })).toHaveProperty('result');
      const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
      const listing = JSON.stringify({ tools: [...names, 'set_list', 'called'].map((name) => ({ name, inputSchema: { type: 'object' } })) });
      await p.request('tools/call', { name: 'set_list', arguments: { raw: listing } });
      const listed = (await p.request('tools/list', {})).result as { tools: Array<{ name: string }> };
      expect(listed.tools.map((t) => t.name)).not.toContain('constructor'); // hidden by its block rule
      const answers = new Map<string, Record<string, unknown>>();
      for (const name of names) answers.set(name, await p.request('tools/call', { name, arguments: {} }));
      expectOutcome(answers.get('__proto__')!, 'blocked'); // critical by its sensitivity entry
      expect(answers.get('constructor')!.error).toMatchObject({ code: -32602 }); // hidden: unknown tool
      const called = JSON.parse(((await p.request('tools/call', { name: 'called', arguments: {} })).result as { content: Array<{ text: string }> }).content[0]!.text) as string[];
      expect(called.filter((n) => names.includes(n))).toEqual(['toString', 'hasOwnProperty', 'valueOf']);
      expect(await p.alive()).toBe(true);
      expect(verifyAudit(join(d, 'audit.jsonl')).code).toBe(0);
    } finally {
      await p.stop();
    }
  });
});

describe('a hostile clientInfo through the full runtime', () => {
  it('an initialize clientInfo whose name is an object does not make the session\'s calls fail closed', async () => {
    const d = tempDir('warden-hostile-client-');
    // The hostile fixture accepts any initialize (an SDK server would refuse this one itself).
    const p = await spawnRawWarden(hostileRuntime(d, resolve(REPO_ROOT, 'policies/default.yaml')));
    try {
      expect(await p.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: { toString: 1 }, version: 7 } })).toHaveProperty('result');
      const answer = await p.request('tools/call', { name: 'echo', arguments: {} });
      expect(answer.result).toEqual({ content: [{ type: 'text', text: 'still here' }] });
      expect(await p.alive()).toBe(true);
      expect(verifyAudit(join(d, 'audit.jsonl')).code).toBe(0);
    } finally {
      await p.stop();
    }
  });
});

