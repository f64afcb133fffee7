import { describe, expect, it } from 'vitest';
import { requestAsPrincipal } from '../../src/guard/request-as-principal.js';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';

/** Like the proxy's CallRequest: the signal a getter over a private field, the check a method. */
class ClassRequest {
  readonly #controller = new AbortController();
  #changed = false;
  constructor(fields: ToolCallRequest) {
    const own: Record<string, unknown> = { ...fields };
    delete own.signal;
    delete own.definitionsChanged;
    Object.assign(this, own);
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  definitionsChanged(): boolean {
    return this.#changed;
  }
  abort(): void {
    this.#controller.abort('cancelled');
  }
  change(): void {
    this.#changed = true;
  }
}

describe('requestAsPrincipal: a request judged as the principal a claims change made', () => {
  it('keeps the class request\'s signal and definitions check, which a spread drops (claims change turning waits into internal blocks)', () => {
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
    original.abort();
    original.change();
    expect(copy.signal.aborted).toBe(true);
    expect(copy.definitionsChanged?.()).toBe(true);
  });

  it('a request without a definitions check stays without one', () => {
    const { req } = callRequest();
    expect(requestAsPrincipal(req, req.principal).definitionsChanged).toBeUndefined();
  });
});
