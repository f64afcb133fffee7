import { afterEach, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../src/core/authenticator.js';
import type { Guard, GuardVerdict } from '../../src/core/tool-call.js';
import { ANONYMOUS_PRINCIPAL } from '../../src/identity/anonymous-authenticator.js';
import { DECISION_META_KEY } from '../../src/core/decision-meta.js';
import { startStdioWardenWithClient } from '../helpers/in-process-warden.js';

/**
 * The proxy awaits the guard only when it returns a promise (a hop less per call). A guard that
 * answers synchronously, or with a foreign thenable, must get the same fail-closed treatment.
 */
type Started = Awaited<ReturnType<typeof startStdioWardenWithClient>>;
let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

const readPayroll = { name: 'read_file', arguments: { path: '/docs/payroll.csv' } };
const overwritePayroll = { name: 'write_file', arguments: { path: '/docs/payroll.csv', content: 'pwned' } };
const ORIGINAL = [{ type: 'text', text: 'name,salary\nalice,100\nbob,90' }];

/** A guard with a synchronous checkToolCall that may answer anything (as a buggy guard might). */
function syncGuard(decide: (tool: string) => unknown): Guard {
  return { checkToolCall: ((req: { tool: string }) => decide(req.tool)) as unknown as Guard['checkToolCall'] };
}

async function expectBlockedAndUntouched(s: Started): Promise<void> {
  const blocked = await s.client.callTool(overwritePayroll);
  expect(blocked.isError).toBe(true);
  expect(((blocked._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY])!.reason).toBe('internal');
  // The upstream never saw the write: the file keeps its original content.
  expect((await s.client.callTool(readPayroll)).content).toEqual(ORIGINAL);
}

describe('guard answering without a promise', () => {
  it('forwards on a synchronous forward verdict', async () => {
    started = await startStdioWardenWithClient({}, { guard: syncGuard(() => ({ kind: 'forward' })) });
    expect((await started.client.callTool(readPayroll)).content).toEqual(ORIGINAL);
  });

  it('blocks a call when the guard throws synchronously', async () => {
    started = await startStdioWardenWithClient({}, {
      guard: syncGuard((tool) => {
        if (tool === 'write_file') throw new Error('policy engine exploded');
        return { kind: 'forward' };
      }),
    });
    await expectBlockedAndUntouched(started);
  });

  it('blocks a synchronous malformed verdict', async () => {
    started = await startStdioWardenWithClient({}, { guard: syncGuard((tool) => (tool === 'write_file' ? { kind: 'allow-please' } : { kind: 'forward' })) });
    await expectBlockedAndUntouched(started);
  });

  it('blocks a verdict whose then getter throws', async () => {
    const hostile = Object.defineProperty({ kind: 'forward' }, 'then', {
      get() {
        throw new Error('then exploded');
      },
    }) as GuardVerdict;
    started = await startStdioWardenWithClient({}, { guard: syncGuard((tool) => (tool === 'write_file' ? hostile : { kind: 'forward' })) });
    await expectBlockedAndUntouched(started);
  });

  it('token check fault: an authenticator throwing synchronously answers unauthenticated and forwards nothing', async () => {
    let calls = 0;
    const authenticator: Authenticator = {
      authenticateHttp: async () => ({ ok: false, status: 401, reason: 'token_missing', description: 'no' }),
      authenticateStdio: () => {
        // The first check (initialize) passes; the token source then breaks.
        calls += 1;
        if (calls > 1) throw new Error('token file unreadable');
        return { ok: true, principal: ANONYMOUS_PRINCIPAL };
      },
    };
    started = await startStdioWardenWithClient({}, { authenticator, guard: syncGuard(() => ({ kind: 'forward' })) });
    const refused = await started.client.callTool(overwritePayroll);
    expect(refused.isError).toBe(true);
    expect(((refused._meta as Record<string, Record<string, unknown>>)[DECISION_META_KEY])!.reason).toBe('internal');
    calls = 0; // a readable token again: the write never reached the upstream
    expect((await started.client.callTool(readPayroll)).content).toEqual(ORIGINAL);
  });

  it('blocks a foreign thenable that rejects', async () => {
    const rejecting = { then: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('no')) };
    started = await startStdioWardenWithClient({}, { guard: syncGuard((tool) => (tool === 'write_file' ? rejecting : { kind: 'forward' })) });
    await expectBlockedAndUntouched(started);
  });
});
