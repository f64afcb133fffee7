import { describe, expect, it } from 'vitest';
import { requestAsPrincipal } from '../../src/guard/request-as-principal.js';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';

/** Like the proxy's CallRequest: the signal a getter over a private field, the check a method. */
class ClassRequest {
  readonly #controller = new AbortController();
  #changed = false;
  #restarted = false;
  constructor(fields: ToolCallRequest) {
    const own: Record<string, unknown> = { ...fields };
    delete own.signal;
    delete own.definitionsChanged;
    delete own.upstreamRestarted;
    Object.assign(this, own);
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  definitionsChanged(): boolean {
    return this.#changed;
  }
  upstreamRestarted(): boolean {
    return this.#restarted;
  }
  abort(): void {
    this.#controller.abort('cancelled');
  }
  change(): void {
    this.#changed = true;
  }
  restart(): void {
    this.#restarted = true;
  }
}

describe('requestAsPrincipal: a request judged as the principal a claims change made', () => {
  it('keeps the class request\'s signal, definitions and restart checks, which a spread drops (claims change turning waits into internal blocks, a restart unnoticed)', () => {
    const { req } = callRequest();
    const original = new ClassRequest(req);
    const asClass = original as unknown as ToolCallRequest;
    expect({ ...asClass }.signal).toBeUndefined(); // what the guard did before
    const other = { ...req.principal, user: 'alice', claims: { employment: 'contractor' } };
    const copy = requestAsPrincipal(asClass, other);
    expect(copy.principal).toBe(other);
    expect(copy.callId).toBe(req.callId);
    expect(copy.signal.aborted).toBe(false);
    expect(copy.definitionsChanged?.()).toBe(false);
    expect(copy.upstreamRestarted?.()).toBe(false);
    original.abort();
    original.change();
    original.restart();
    expect(copy.signal.aborted).toBe(true);
    expect(copy.definitionsChanged?.()).toBe(true);
    expect(copy.upstreamRestarted?.()).toBe(true);
  });

  it('a request without a definitions or restart check stays without one', () => {
    const { req } = callRequest();
    expect(requestAsPrincipal(req, req.principal).definitionsChanged).toBeUndefined();
    expect(requestAsPrincipal(req, req.principal).upstreamRestarted).toBeUndefined();
  });
});
