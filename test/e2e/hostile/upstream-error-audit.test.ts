import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileUpstream } from '../../helpers/hostile-raw-agent.js';
import { spawnRawWarden, verifyAudit } from '../../helpers/hostile-warden-process.js';
import { REPO_ROOT, TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/warden-process.js';
import { CODE_NOT_AN_INTEGER, MESSAGE_NOT_A_STRING } from '../../../src/core/upstream-error.js';
import { MAX_RECORDED_ERROR_MESSAGE_CHARS } from '../../../src/audit/bounded-message.js';

// A hostile upstream answers tools/call with a JSON-RPC error whose fields are not what JSON-RPC
// promises. The audit record table promises `call.result` `error.code` an integer and
// `error.message` a bounded string; the agent still gets the upstream's answer as it was sent.

type Warden = Awaited<ReturnType<typeof spawnRawWarden>>;
type Rec = Record<string, unknown> & { type: string; callId?: string; error?: { code: unknown; message: unknown } };

let dir: string;
let auditFile: string;
let w: Warden;

beforeAll(async () => {
  dir = tempDir('warden-upstream-error-');
  auditFile = join(dir, 'audit.jsonl');
  w = await spawnRawWarden({
    dangerouslyAllowAnonymous: true,
    upstreams: { hostile: hostileUpstream() },
    // The policy allows every call: what is tested is the record of the upstream's answer.
    policy: { files: [TRANSPARENT_POLICY], watch: false },
    pins: { onNew: 'allow' },
    audit: { file: auditFile },
  });
  expect(await w.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } })).toHaveProperty('result');
}, 30_000);
afterAll(() => w?.stop());

const records = (): Rec[] => readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);

/** Calls `reply_raw`, returns the agent's answer and the call's `call.result` record's `error`. */
async function answerAndRecord(body: string): Promise<{ answer: Record<string, unknown>; recorded: unknown }> {
  const answer = await w.request('tools/call', { name: 'reply_raw', arguments: { body } });
  const callId = records().filter((r) => r.type === 'call.forwarded').at(-1)?.callId;
  expect(callId).toBeDefined();
  for (let i = 0; i < 200; i++) {
    const result = records().find((r) => r.type === 'call.result' && r.callId === callId);
    if (result) return { answer, recorded: result.error };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no call.result recorded');
}

const hugeCode = `"${'9'.repeat(100_000)}"`;
const CODES: Array<[string, string, unknown]> = [
  ['a string', '"-32000"', CODE_NOT_AN_INTEGER],
  ['an object', '{"a":{"b":[1,2,3]}}', CODE_NOT_AN_INTEGER],
  ['a 100,000-character string', hugeCode, CODE_NOT_AN_INTEGER],
  ['a number beyond double range', '1e400', CODE_NOT_AN_INTEGER],
  ['a fraction', '1.5', CODE_NOT_AN_INTEGER],
  ['an integer beyond 2^53', '123456789012345678901234567890', CODE_NOT_AN_INTEGER],
  ['an integer', '-32042', -32042],
];

describe('call.result of an upstream error with a hostile code', () => {
  for (const [attack, code, expected] of CODES) {
    it(`records ${attack} as code ${JSON.stringify(expected)} and relays the upstream's answer unchanged`, async () => {
      const { answer, recorded } = await answerAndRecord(`"error":{"code":${code},"message":"nope"}`);
      expect(recorded).toEqual({ code: expected, message: 'nope' });
      // The agent gets what the upstream sent, relayed as any answer is (1e400 is written null).
      expect((answer.error as { code: unknown }).code).toEqual(JSON.parse(JSON.stringify(JSON.parse(code))));
    });
  }
});

describe('call.result of an upstream error with a hostile message or shape', () => {
  it('records a message that is an object as a marker, never its content', async () => {
    const { recorded } = await answerAndRecord('"error":{"code":-32000,"message":{"secret":"x","toString":1}}');
    expect(recorded).toEqual({ code: -32000, message: MESSAGE_NOT_A_STRING });
  });

  it('records an error that is a string as markers', async () => {
    const { answer, recorded } = await answerAndRecord('"error":"boom"');
    expect(recorded).toEqual({ code: CODE_NOT_AN_INTEGER, message: MESSAGE_NOT_A_STRING });
    expect(answer.error).toBe('boom');
  });

  it('cuts a megabyte error message to the bound in the audit, not in the answer', async () => {
    const message = 'm'.repeat(1_000_000);
    const { answer, recorded } = await answerAndRecord(`"error":{"code":-32000,"message":"${message}"}`);
    const kept = (recorded as { message: string }).message;
    expect(kept).toBe(`${'m'.repeat(MAX_RECORDED_ERROR_MESSAGE_CHARS)}… (${1_000_000 - MAX_RECORDED_ERROR_MESSAGE_CHARS} more characters)`);
    expect((answer.error as { message: string }).message).toHaveLength(1_000_000);
  });

  it('keeps a chain that verifies after every hostile error', async () => {
    expect(await w.alive()).toBe(true);
    expect(verifyAudit(auditFile).code).toBe(0);
  });
});

describe('a resources/subscribe answered with an error that is not a JSON-RPC error object', () => {
  // Reading the code of `"error":null` threw inside the upstream's message handler: the warden
  // process died (no answer, every agent cut off) on one hostile answer.
  const SUBSCRIBE_ANSWERS: Array<[string, string]> = [
    ['an error that is null', '"error":null'],
    ['an error that is a string', '"error":"boom"'],
    ['an error whose code is an object', '"error":{"code":{"a":1},"message":"x"}'],
  ];
  for (const [attack, raw] of SUBSCRIBE_ANSWERS) {
    it(`survives ${attack}: the agent gets one answer and warden keeps serving`, async () => {
      const s = await spawnRawWarden({
        dangerouslyAllowAnonymous: true,
        upstreams: { hostile: { command: process.execPath, args: [join(REPO_ROOT, 'test/fixtures/proxy/uri-claim-server.mjs')], env: { SERVER_NAME: 'hostile', SUBSCRIBE_ANSWER_RAW: raw } } },
        policy: { files: [TRANSPARENT_POLICY], watch: false },
        pins: { onNew: 'allow' },
        audit: { file: join(tempDir('warden-subscribe-error-'), 'audit.jsonl') },
      });
      try {
        expect(await s.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } })).toHaveProperty('result');
        const answer = await s.request('resources/subscribe', { uri: 'test://doc' });
        expect(s.answersFor(answer.id as string)).toHaveLength(1);
        expect(await s.alive()).toBe(true);
      } finally {
        await s.stop();
      }
    });
  }
});
