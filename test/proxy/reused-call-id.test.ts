import { afterEach, describe, expect, it } from 'vitest';
import type { GuardVerdict, ToolCallRequest } from '../../src/core/tool-call.js';
import { rawAgent } from '../helpers/hostile-raw-agent.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

const refusal = (text: string): GuardVerdict => ({ kind: 'respond', result: { content: [{ type: 'text', text }], isError: true } });

/**
 * A guard that holds calls with `hold: true` the way an approval does (until their signal aborts:
 * agent cancel, session end) and refuses the others at once.
 */
function holdingGuard() {
  const held: ToolCallRequest[] = [];
  const guard = {
    checkToolCall: (req: ToolCallRequest): GuardVerdict | Promise<GuardVerdict> => {
      if ((req.arguments as { hold?: boolean }).hold !== true) return refusal('blocked');
      held.push(req);
      return new Promise<GuardVerdict>((resolve) => req.signal.addEventListener('abort', () => resolve(refusal('withdrawn')), { once: true }));
    },
  };
  return { guard, held };
}

/** An initialised raw agent on warden with the holding guard, closed after the test. */
async function agentWithHoldingGuard() {
  const { guard, held } = holdingGuard();
  const a = await rawAgent({}, { guard });
  closers.push(a.close);
  expect(await a.init()).toHaveProperty('result');
  return { a, held };
}

/** Sends a tools/call under `id` that the holding guard keeps waiting, and waits until it is held. */
async function holdCall(a: Awaited<ReturnType<typeof rawAgent>>, held: readonly ToolCallRequest[], id: string | number): Promise<void> {
  const before = held.length;
  a.fire(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: 'a', hold: true } } }));
  for (let i = 0; i < 200 && held.length === before; i++) await new Promise((r) => setTimeout(r, 10));
}

/** Cancels request `id` and waits until the held call sees it withdrawn. */
async function cancelHeld(a: Awaited<ReturnType<typeof rawAgent>>, call: ToolCallRequest, id: string | number): Promise<void> {
  a.fire(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'stop' } }));
  for (let i = 0; i < 200 && !call.signal.aborted; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('an agent that reuses the id of a call still waiting in warden', () => {
  it('refuses the second call (-32600), so the held one is still withdrawn when the session ends', async () => {
    const { a, held } = await agentWithHoldingGuard();
    // Call 7 waits for a human; the agent sends another call under the same id.
    await holdCall(a, held, 7);
    expect(held).toHaveLength(1);
    const second = await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } }), 7);
    expect(second).toMatchObject({ error: { code: -32600 } });
    // The duplicate did not take the held call's place: cancelling id 7 still reaches the held call.
    expect(held[0]!.signal.aborted).toBe(false);
    await cancelHeld(a, held[0]!, 7);
    expect(held[0]!.signal.aborted).toBe(true);
  });

  it('withdraws a held call at session end even after the agent reused its id for a call that was answered', async () => {
    const { guard, held } = holdingGuard();
    const a = await rawAgent({}, { guard });
    expect(await a.init()).toHaveProperty('result');
    await holdCall(a, held, 'x');
    await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } }), 'x');
    // The agent goes away: every call of the session that still waits must be withdrawn.
    await a.close();
    expect(held[0]!.signal.aborted).toBe(true);
  });
});

describe('an agent that reuses the id of a held call for a request warden forwards unjudged (stdio)', () => {
  it('refuses it (-32600): its answer would end the held call\'s entry, and a cancel or the session\'s end would then miss the held call', async () => {
    const { a, held } = await agentWithHoldingGuard();
    await holdCall(a, held, 7);
    expect(held).toHaveLength(1);
    // An unknown method is forwarded unjudged to the upstream, which answers it at once.
    const reused = await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'x/unknown', params: {} }), 7);
    expect(reused).toMatchObject({ error: { code: -32600, message: 'Invalid Request: a request with this id is still in flight' } });
    await cancelHeld(a, held[0]!, 7);
    expect(held[0]!.signal.aborted).toBe(true);
  });

  it('still forwards a request under an id that differs only in type (7 and "7" are two ids)', async () => {
    const { a, held } = await agentWithHoldingGuard();
    await holdCall(a, held, 7);
    const other = await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: '7', method: 'x/unknown', params: {} }), '7');
    // The upstream's own answer: it was forwarded.
    expect(other).toMatchObject({ error: { code: -32601 } });
    expect(held[0]!.signal.aborted).toBe(false);
  });
});

describe('a verdict that breaks warden\'s handler as it is acted on', () => {
  it('answers -32603 and frees the id: a later call under that id is not refused as still in flight', async () => {
    // A verdict that passes the check, then throws when the proxy acts on it: stands for any bug
    // between judging and forwarding (outside the guard's own catch-all).
    let reads = 0;
    const brittle = Object.defineProperty({}, 'kind', {
      get() {
        reads += 1;
        if (reads > 1) throw new Error('verdict exploded');
        return 'forward';
      },
    }) as GuardVerdict;
    const guard = {
      checkToolCall: (req: ToolCallRequest): GuardVerdict => ((req.arguments as { brittle?: boolean }).brittle === true ? brittle : { kind: 'forward' }),
    };
    const a = await rawAgent({}, { guard });
    closers.push(a.close);
    expect(await a.init()).toHaveProperty('result');
    const broken = await a.exchange(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'a', brittle: true } } }), 9);
    expect(broken).toMatchObject({ error: { code: -32603 } });
    expect(reads).toBeGreaterThan(1);
    // The id is free again: the next call under it reaches the upstream and is answered.
    a.fire(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } }));
    for (let i = 0; i < 400 && a.answersFor(9).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const next = a.answersFor(9)[1];
    expect(next).toMatchObject({ result: { content: [{ type: 'text' }] } });
    expect(JSON.stringify(next)).toContain('b');
  });
});
